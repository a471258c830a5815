"""Use a trained or imported run without training: embed, fill-mask, predict, generate.

Each function takes a loaded ``Run`` (``kerasllm.runs.load_run``) and plain
Python strings and returns numpy arrays / plain Python values; the click
commands in ``kerasllm.cli`` only print them. Texts are packed to the longest
text in the batch (at most the run's ``seq_length``), so short inputs stay fast.
"""
import weakref

import numpy as np

from kerasllm import tasks
from kerasllm.data.text_decoding import decode_text
from kerasllm.errors import KerasLLMError

MASK_TOKEN = "[MASK]"


def bert_encoder(run):
    """The ``BertEncoder`` of a BERT run (inside its task model, or the model itself)."""
    if run.config.get("family") != "bert":
        raise KerasLLMError(f"{run.path}: sentence embeddings need a BERT run, received family "
                            f"{run.config.get('family')!r}.")
    return getattr(run.model, "encoder", run.model)


def _tokenize(tokenizer, text):
    text, _ = decode_text(text)  # bytes / argv surrogates: invalid UTF-8 -> U+FFFD
    return [int(i) for i in np.asarray(tokenizer.tokenize(text)).reshape(-1)]


def _tokenize_all(tokenizer, texts):
    """``_tokenize`` of many texts in one call of the tokenizer's cached ``tf.function``."""
    from kerasllm.text_graph import compiled_tokenize, strings

    return compiled_tokenize(tokenizer)(strings(texts)).to_list()


def _pack(run, token_lists, pair_lists=None):
    """[CLS] A [SEP] (B [SEP]) -> numpy token_ids / segment_ids / padding_mask (B, T)."""
    from kerasllm.data.packing import pack_inputs
    import tensorflow as tf

    special = 3 if pair_lists is not None else 2
    longest = max(len(a) + (len(b) if pair_lists is not None else 0) for a, b in zip(
        token_lists, pair_lists if pair_lists is not None else token_lists))
    # At least one slot after the specials: an empty text packs as [CLS] [SEP] [PAD],
    # the padding masked out, which is what the SavedModel computes for it.
    seq_length = int(min(run.config["seq_length"], max(longest, 1) + special))
    a = tf.ragged.constant(token_lists, dtype=tf.int32, ragged_rank=1)
    b = None if pair_lists is None else tf.ragged.constant(pair_lists, dtype=tf.int32,
                                                           ragged_rank=1)
    packed = pack_inputs(run.tokenizer, a, b, seq_length=seq_length)
    return {k: np.asarray(v) for k, v in packed.items()}


def _checked(texts, pairs=None):
    texts = list(texts)
    if not texts:
        raise KerasLLMError("No text given; pass at least one --text.")
    if pairs is not None and len(pairs) != len(texts):
        raise KerasLLMError(f"Received {len(texts)} texts but {len(pairs)} text pairs; "
                            f"give one --text-pair per --text.")
    return texts


def encode_texts(run, texts, pairs=None):
    """Tokenise and pack ``texts`` (and optional second segments) for a BERT run."""
    texts = _checked(texts, pairs)
    a = _tokenize_all(run.tokenizer, texts)
    b = None if pairs is None else _tokenize_all(run.tokenizer, pairs)
    return _pack(run, a, b)


_COMPILED = weakref.WeakKeyDictionary()  # model -> its cached tf.function


def compiled(model):
    """``model(x, training=False)`` as one cached ``tf.function`` per model.

    Calling a Keras model eagerly runs its ops one by one in Python (about 3x
    slower for a MiniLM batch on 2 CPU cores). ``reduce_retracing`` lets the
    length-sorted batches, whose width changes, share one traced graph.
    """
    if model not in _COMPILED:
        import tensorflow as tf

        _COMPILED[model] = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return _COMPILED[model]


POOLINGS = ("mean", "cls")


def embed(run, texts, batch_size=32, pooling=None, normalize=None):
    """Sentence embeddings (N, H) of a BERT run's encoder.

    Args:
        run: a loaded BERT ``Run``.
        texts: list of str.
        batch_size: texts per forward pass.
        pooling: "mean" (average of ``sequence_output`` over real tokens, [CLS] and
            [SEP] included, padding not) or "cls" (the [CLS] vector); None uses the
            run's ``pooling`` (what ``import-hf`` read from the checkpoint), else mean.
        normalize: L2-normalise each vector; None uses the run's ``normalize``
            (True for sentence-transformers checkpoints such as all-MiniLM-L6-v2).
    """
    from kerasllm import text_graph

    encoder = bert_encoder(run)
    pooling = pooling or run.config.get("pooling", "mean")
    if pooling not in POOLINGS:
        raise KerasLLMError(f"pooling {pooling!r}: expected one of {', '.join(POOLINGS)}.")
    if normalize is None:
        normalize = bool(run.config.get("normalize", False))

    def head(x):  # packed (B, W) -> (B, H), in the same graph as tokenizing and packing
        hidden = encoder(x, training=False)["sequence_output"]  # (B, W, H)
        return text_graph.pool(hidden, x["padding_mask"], pooling, normalize)

    fn = text_graph.text_function(run, encoder, head, ("embed", pooling, normalize))
    return text_graph.map_texts(run, fn, _checked(texts), batch_size=batch_size)


def cosine_similarity(embeddings):
    """(N, N) cosine similarities of the rows of ``embeddings``."""
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=-1, keepdims=True), 1e-12)
    return unit @ unit.T


def _mlm_logits(model, inputs):
    outputs = model(inputs, training=False)
    if isinstance(outputs, dict):
        outputs = outputs["mlm"]
    return np.asarray(outputs, dtype="float32")  # (B, P, V)


def _softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def fill_mask(run, text, top_k=5):
    """Top-k (token, probability) lists, one per ``[MASK]`` in ``text``, left to right."""
    masked_lm = tasks.with_field("masked_lm")
    if run.config.get("task") not in masked_lm:
        raise KerasLLMError(f"{run.path}: fill-mask needs a masked-LM run (task "
                            f"{' or '.join(masked_lm)}), received task {run.config.get('task')!r}.")
    ids = _tokenize(run.tokenizer, text)  # the tokenizer keeps a typed [MASK] whole
    if run.tokenizer.mask_id not in ids:
        raise KerasLLMError(f"No {MASK_TOKEN} in {text!r}; write {MASK_TOKEN} where a "
                            f"token should be predicted.")
    inputs = _pack(run, [ids])
    positions = np.flatnonzero(inputs["token_ids"][0] == run.tokenizer.mask_id)
    if len(positions) == 0:
        raise KerasLLMError(f"Every {MASK_TOKEN} in {text!r} was cut off at seq_length "
                            f"{run.config['seq_length']}; shorten the text.")
    inputs["mask_positions"] = positions[None, :].astype("int32")  # (1, P)
    probs = _softmax(_mlm_logits(run.model, inputs)[0])  # (P, V)
    results = []
    for row in probs:
        best = np.argsort(-row)[:top_k]
        results.append([(run.tokenizer.id_to_token(int(i)), float(row[i])) for i in best])
    return results


def predict(run, texts, pairs=None, batch_size=32):
    """Class probabilities (N, C) and predicted label names for a classifier run."""
    if run.config.get("task") != "classify":
        raise KerasLLMError(f"{run.path}: predict needs a classifier run (task classify), "
                            f"received task {run.config.get('task')!r}.")
    from kerasllm import text_graph

    texts = _checked(texts, pairs)
    fn = text_graph.text_function(run, run.model, lambda x: run.model(x, training=False),
                                  ("logits",), pairs=pairs is not None)
    logits = text_graph.map_texts(run, fn, texts, pairs, batch_size)  # (N, C)
    probs = _softmax(logits.astype("float64"))
    labels = run.labels or [str(i) for i in range(probs.shape[-1])]
    return probs, [labels[i] for i in probs.argmax(axis=-1)]


def generate(run, prompt, max_new_tokens=20, temperature=1.0, top_k=None, top_p=None,
             seed=None):
    """Continue ``prompt`` with an LSTM LM run; returns the generated text (prompt included)."""
    if run.config.get("task") != "lm":
        raise KerasLLMError(f"{run.path}: generate needs an LSTM language-model run "
                            f"(task lm), received task {run.config.get('task')!r}.")
    prompt_ids = _tokenize(run.tokenizer, prompt)
    if getattr(run.tokenizer, "add_eos", False) and prompt_ids[-1:] == [run.tokenizer.eos_id]:
        prompt_ids = prompt_ids[:-1]  # the prompt is an unfinished line: no <eos> after it
    if not prompt_ids:
        raise KerasLLMError("The prompt is empty after tokenisation; pass some words.")
    out = run.model.generate(np.asarray([prompt_ids], dtype="int32"), max_new_tokens,
                             temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    return _detokenize(run.tokenizer, np.asarray(out)[0])


def _detokenize(tokenizer, ids):
    text = tokenizer.detokenize(np.asarray(ids, dtype="int32"))
    text = text.numpy() if hasattr(text, "numpy") else text
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)
