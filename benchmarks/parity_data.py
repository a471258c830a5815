"""The one batch stream of the learning-parity benchmark, and the held-out set.

Training batches come from the stream ``kerasllm pretrain --corpus`` trains on
(``kerasllm.training.pretrain_job._corpus_stream``: MLM+NSP pairs and masks drawn
from the seed) over the BBC training articles; the held-out set from the code
behind ``pretrain --eval`` (``pretrain_eval.held_out_batches``) over the BBC
test articles, with one fixed seed for every run. Both are materialised as
numpy once per seed, so every model of a seed gets the very same tensors:
MLM-only models get the same rows with the NSP labels left out (``view``).
"""
import hashlib
from pathlib import Path

import numpy as np

import common  # noqa: F401  (environment + sys.path set-up)

HELD_OUT_SEED = 20260
MASKED_LM_PROB = 0.15


def corpus_files(work, max_articles=None):
    """``(train.txt, test.txt)``: the BBC splits in BERT layout under ``work`` (written once).

    ``max_articles`` keeps the first N articles of each split (the smoke test)."""
    from kerasllm.data.corpus import write_bert_corpus
    from kerasllm.data.datasets import bbc_news

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    files = []
    for split in ("train", "test"):
        path = work / f"bbc_{split}{'' if max_articles is None else f'_{max_articles}'}.txt"
        if not path.is_file():
            write_bert_corpus(bbc_news(split)[:max_articles], path)
        files.append(path)
    return tuple(files)


def vocabulary(work, train_file, size):
    """A WordPiece tokenizer learned once on the training articles and kept under ``work``
    (the learner breaks ties differently per process: every run must read the one file)."""
    from kerasllm.data import WordPieceTokenizer, read_documents, write_vocabulary
    from kerasllm.training.models_setup import learn_or_load_wordpiece

    path = Path(work) / f"vocab_{Path(train_file).stem}_{size}.txt"
    if not path.is_file():
        lines = [line for doc in read_documents([str(train_file)]) for line in doc.lines]
        _, tokens = learn_or_load_wordpiece(None, lines, size, "BBC train")
        write_vocabulary(tokens, path)
    return WordPieceTokenizer(str(path))


def max_predictions(seq_length):
    """BERT's cap on masked tokens per row: the masking rate times the length (20 at 128)."""
    return max(1, round(MASKED_LM_PROB * seq_length))


def training_batches(train_file, tokenizer, seed, batch_size, seq_length, steps):
    """The first ``steps`` MLM+NSP batches of the job's stream for ``seed``, stacked:
    ``(x, y, sample_weight)`` whose arrays have a leading ``steps`` axis."""
    import tensorflow as tf

    from kerasllm.training.pretrain_job import _corpus_stream

    options = {"corpus": [str(train_file)], "seq_length": seq_length,
               "max_predictions": max_predictions(seq_length),
               "masked_lm_prob": MASKED_LM_PROB, "seed": seed, "task": "mlm+nsp"}
    batches, _ = _corpus_stream(options, tokenizer, batch_size)
    return tf.nest.map_structure(lambda *a: np.stack(a),
                                 *batches().take(steps).as_numpy_iterator())


def held_out(test_file, tokenizer, batch_size, examples, seq_length):
    """The fixed held-out MLM+NSP batches (same pairs and masks for every run)."""
    from kerasllm.training.pretrain_eval import held_out_batches

    return held_out_batches([str(test_file)], tokenizer, "mlm+nsp", batch_size, examples,
                            seq_length, HELD_OUT_SEED)


def view(batch, task):
    """An MLM+NSP ``(x, y, sample_weight)`` batch as ``task`` ("mlm" or "mlm+nsp") takes it."""
    x, y, weights = batch
    return (x, y["mlm"], weights["mlm"]) if task == "mlm" else batch


def dataset(stacked, task):
    """The stacked batches, one element per step, in ``task``'s format."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(view(stacked, task)).prefetch(tf.data.AUTOTUNE)


def digest(ds):
    """sha256 over every tensor ``ds`` yields, in order: equal digests = identical batches."""
    import tensorflow as tf

    h = hashlib.sha256()
    for element in ds.as_numpy_iterator():
        for array in tf.nest.flatten(element):
            h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def batch_summary(stacked):
    """Steps, sequences and (non-padding) tokens of the stacked batches."""
    x = stacked[0]
    steps, batch, length = x["token_ids"].shape
    return {"steps": int(steps), "sequences": int(steps * batch), "tokens": int(steps * batch * length),
            "non_padding_tokens": int(x["padding_mask"].sum()),
            "masked_tokens": int(stacked[2]["mlm"].sum()),
            "nsp_random_next_fraction": float(stacked[1]["nsp"].mean())}
