"""Import a local Hugging Face BERT checkpoint as a kerasllm RUN_DIR.

Which kerasllm model is built depends on the heads stored in the file:
``cls.predictions`` + ``cls.seq_relationship`` -> BertPretrainer (task
mlm+nsp), ``cls.predictions`` -> BertMaskedLM (mlm), ``cls.seq_relationship``
-> BertNSP (nsp), ``classifier`` -> BertClassifier (classify, labels from
``id2label``), none -> BertEncoder (encoder). Every tensor is checked before
anything is written: all missing, unexpected and mis-shaped tensors are
reported in one error.
"""
from pathlib import Path

import numpy as np

from kerasllm.checkpoints.bundled import bundled_names, resolve_checkpoint_dir
from kerasllm.checkpoints.hf_config import bert_config_from_hf, labels_from_hf, read_json
from kerasllm.checkpoints.sentence_config import read_sentence_options
from kerasllm.checkpoints.hf_tokenizer import read_tokenizer_options, read_vocab
from kerasllm.checkpoints.hf_weights import read_hf_weights
from kerasllm.checkpoints.weight_map import weight_entries
from kerasllm.errors import DataError

# Tensors some checkpoints carry that hold no learned state of their own.
IGNORED = ("embeddings.position_ids",)
TIED_DECODER = "cls.predictions.decoder.weight"     # == word embeddings when tied
DECODER_BIAS_ALIAS = "cls.predictions.decoder.bias"  # == cls.predictions.bias


def detect_task(names):
    """kerasllm task from the head tensors present in a checkpoint."""
    mlm = any(n.startswith("cls.predictions.") for n in names)
    nsp = any(n.startswith("cls.seq_relationship.") for n in names)
    if any(n.startswith("classifier.") for n in names):
        return "classify"
    if mlm and nsp:
        return "mlm+nsp"
    return "mlm" if mlm else ("nsp" if nsp else "encoder")


def _fold_aliases(weights, problems):
    """Check and drop tensors that duplicate another one (tied decoder, bias alias)."""
    for name in IGNORED:
        weights.pop(name, None)
    decoder = weights.pop(TIED_DECODER, None)
    embeddings = weights.get("embeddings.word_embeddings.weight")
    if decoder is not None and embeddings is not None and not (
            decoder.shape == embeddings.shape and np.allclose(decoder, embeddings)):
        problems.append(f"{TIED_DECODER} differs from embeddings.word_embeddings.weight "
                        f"(untied output embeddings are not supported)")
    bias = weights.pop(DECODER_BIAS_ALIAS, None)
    if bias is not None:
        weights.setdefault("cls.predictions.bias", bias)


def build_task_model(task, bert, num_classes=None):
    """A built (weights created) kerasllm model for ``task`` with ``BertConfig`` sizes."""
    import dataclasses

    from kerasllm import models

    encoder = models.BertEncoder(**dataclasses.asdict(bert))
    model = {
        "encoder": lambda: encoder,
        "mlm": lambda: models.BertMaskedLM(encoder),
        "nsp": lambda: models.BertNSP(encoder),
        "mlm+nsp": lambda: models.BertPretrainer(encoder),
        "classify": lambda: models.BertClassifier(encoder, num_classes=num_classes),
    }[task]()
    inputs = {"token_ids": np.zeros((1, 2), "int32"), "segment_ids": np.zeros((1, 2), "int32"),
              "padding_mask": np.ones((1, 2), "int32")}
    if task in ("mlm", "mlm+nsp"):
        inputs["mask_positions"] = np.zeros((1, 1), "int32")
    model(inputs)  # creates every variable
    return model


def match_weights(entries, weights, optional=()):
    """Pair each entry with its tensor; raise one DataError listing every problem."""
    weights = dict(weights)
    problems = []
    _fold_aliases(weights, problems)
    pairs = []
    for entry in entries:
        value = weights.pop(entry.hf_name, None)
        if value is None:
            if not entry.hf_name.startswith(optional):
                problems.append(f"missing {entry.hf_name}")
            continue
        expected = entry.hf_shape
        if tuple(value.shape) != expected:
            problems.append(f"{entry.hf_name} has shape {tuple(value.shape)}, "
                            f"expected {expected}")
            continue
        pairs.append((entry, value))
    problems += [f"unexpected {name}" for name in sorted(weights)]
    return pairs, problems


def _check_output(run_dir, overwrite):
    """Refuse to write over anything but an empty directory or (with overwrite) a run."""
    from kerasllm.runs import CONFIG_FILE

    out = Path(run_dir)
    if out.exists() and not out.is_dir():
        raise DataError(f"--output {out}: exists and is not a directory; choose another path.")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise DataError(f"--output {out}: not empty; pass --overwrite to replace the run "
                            f"there or choose a new directory.")
        if not (out / CONFIG_FILE).is_file():
            raise DataError(f"--output {out}: not empty and not a kerasllm run; refusing to "
                            f"replace it even with --overwrite - choose a new directory.")


def import_checkpoint(checkpoint_dir, run_dir, seq_length=None, overwrite=False):
    """Convert ``checkpoint_dir`` into a RUN_DIR; return the saved config dict.

    ``checkpoint_dir`` is a directory or a bundled name (``all-MiniLM-L6-v2``).
    A sentence-transformers layout also sets the run's ``pooling``, ``normalize``
    and default ``seq_length`` (its ``max_seq_length``). Nothing is written until
    the whole checkpoint has been read and checked.
    """
    import shutil

    from kerasllm.runs import save_run

    _check_output(run_dir, overwrite)
    root = resolve_checkpoint_dir(checkpoint_dir)
    if not root.is_dir():
        raise DataError(f"{root}: checkpoint directory not found; pass a local directory "
                        f"written by transformers' save_pretrained, or a bundled name "
                        f"({', '.join(bundled_names())}); nothing is downloaded.")
    hf = read_json(root / "config.json")
    bert = bert_config_from_hf(hf, root / "config.json")
    tokens = read_vocab(root)
    if len(tokens) != bert.vocabulary_size:
        raise DataError(f"{root}: the vocabulary has {len(tokens)} tokens but config.json "
                        f"vocab_size is {bert.vocabulary_size}; they must match.")
    if seq_length is not None and not 8 <= seq_length <= bert.max_sequence_length:
        raise DataError(f"--seq-length {seq_length}: must be between 8 and the checkpoint's "
                        f"max_position_embeddings ({bert.max_sequence_length}).")
    sentence = read_sentence_options(root)
    weights = read_hf_weights(root)
    task = detect_task(weights)
    labels = labels_from_hf(hf, root / "config.json") if task == "classify" else None
    if labels is not None and len(labels) < 2:
        raise DataError(f"{root / 'config.json'}: num_labels {len(labels)} is a regression "
                        f"head; only classification heads (>= 2 labels) can be imported.")
    model = build_task_model(task, bert, num_classes=len(labels) if labels else None)
    has_pooler = any(n.startswith("pooler.") for n in weights)
    optional = () if has_pooler else ("pooler.",)  # BertForMaskedLM stores no pooler
    pairs, problems = match_weights(weight_entries(model, task), weights, optional)
    if problems:
        raise DataError(f"{root}: checkpoint does not match a BERT {task} model "
                        f"({len(problems)} problem(s)): {'; '.join(problems)}.")
    for entry, value in pairs:
        entry.assign(value)
    config = {
        "job": "import-hf",
        "task": task,
        "family": "bert",
        "preset": None,
        "model": bert,
        "tokenizer": read_tokenizer_options(root),
        "seq_length": int(seq_length or min(sentence["max_seq_length"] or 512,
                                            bert.max_sequence_length)),
        "pooling": sentence["pooling"],
        "normalize": sentence["normalize"],
        "text_pair": False,
        "source": str(root.resolve()),
        "hf_architecture": (hf.get("architectures") or [None])[0],
        "hf_pooler": has_pooler,
    }
    if Path(run_dir).is_dir():
        shutil.rmtree(run_dir)  # checked above: empty, or a run that --overwrite replaces
    save_run(run_dir, config, model, tokens, labels=labels)
    return config
