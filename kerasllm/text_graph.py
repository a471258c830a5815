"""Raw strings to model outputs in one traced graph: tokenize -> pack -> model -> head.

Why: ``inference.encode_texts`` tokenizes in a ``tf.function``, copies the ids
to Python lists, rebuilds them as a ragged tensor and packs them eagerly
(keras-hub's ``MultiSegmentPacker`` op by op), then hands numpy arrays to the
model and pools in numpy. For one sentence those round trips cost about as
much as the model itself (bert_mini on 2 CPU cores: ~4 ms of the 9.6 ms p50).
Here the whole path is one ``tf.function`` with a fixed input signature
(strings of any batch size), traced once per (model, head, pairs?), so a call
is one graph execution.

The packed width is the old one: the batch's longest text plus the special
tokens, at most the run's ``seq_length`` (at least one slot after the
specials: an empty text packs as [CLS] [SEP] [PAD], as the SavedModel does).
Packing is to ``seq_length`` and then cut, which truncates exactly as packing
to the shorter width did (truncation only happens when the width is
``seq_length``).
"""
import functools
import weakref

import numpy as np
import tensorflow as tf

from kerasllm.data.text_decoding import decode_text

_FUNCTIONS = weakref.WeakKeyDictionary()  # model / tokenizer -> {key: tf.function}
_TOKENIZE = weakref.WeakKeyDictionary()  # tokenizer -> tf.function
_STRINGS = tf.TensorSpec([None], tf.string)


def compiled_tokenize(tokenizer):
    """``tokenizer.tokenize`` as one cached ``tf.function`` (strings (N,) -> ragged ids):
    eagerly its ops cost ~40 ms per call on 2 CPU cores, compiled ~0.5 ms."""
    if tokenizer not in _TOKENIZE:
        _TOKENIZE[tokenizer] = tf.function(tokenizer.tokenize, input_signature=[_STRINGS])
    return _TOKENIZE[tokenizer]


def specials(pairs):
    """Special tokens one packed row holds: [CLS] A [SEP] (B [SEP])."""
    return 3 if pairs else 2


def packed_lengths(tokenizer, seq_length, texts, pairs=None):
    """(N,) int64 real tokens per packed row (specials included), without packing."""
    tokenize = compiled_tokenize(tokenizer)
    lengths = tokenize(strings(texts)).row_lengths()  # (N,)
    if pairs is not None:
        lengths += tokenize(strings(pairs)).row_lengths()
    return np.minimum(lengths.numpy() + specials(pairs is not None), seq_length)


def strings(texts):
    """(N,) tf.string of ``texts``; bytes / argv surrogates: invalid UTF-8 -> U+FFFD."""
    return tf.constant([decode_text(t)[0] for t in texts], tf.string)


def _pack(tokenizer, seq_length, texts, second):
    """Graph code: strings (B,) -> (packed dict (B, seq_length), real tokens before specials (B,))."""
    from kerasllm.data.packing import pack_inputs

    a = tokenizer.tokenize(texts)  # (B, None) ragged ids
    b = None if second is None else tokenizer.tokenize(second)
    lengths = a.row_lengths() + (0 if b is None else b.row_lengths())  # (B,)
    return pack_inputs(tokenizer, a, b, seq_length=seq_length), lengths


def _function(call, pairs):
    # plain ops, no tensor-dependent Python control flow: no autograph. Wrapped in a
    # partial: tf.function counts traces per code object, so one closure traced once for
    # each of several tokenizers / models would print a bogus "excessive retracing" warning;
    # a partial has no __code__ and is counted on its own.
    return tf.function(functools.partial(call), autograph=False,
                       input_signature=[_STRINGS, _STRINGS] if pairs else [_STRINGS])


def pack_function(tokenizer, seq_length, pairs=False):
    """``f(texts[, pairs]) -> {token_ids, segment_ids, padding_mask}`` (B, seq_length) int32:
    ``packing.pack_inputs`` of the tokenized texts, one cached ``tf.function`` per
    ``(tokenizer, seq_length, pairs)`` (eagerly, tokenizing and packing 320 titles costs
    ~70 ms on 2 CPU cores, most of it op-by-op dispatch)."""
    cache = _FUNCTIONS.setdefault(tokenizer, {})
    key = ("pack", int(seq_length), pairs)
    if key not in cache:
        cache[key] = _function(
            lambda texts, second=None: _pack(tokenizer, int(seq_length), texts, second)[0], pairs)
    return cache[key]


def text_function(run, model, head, key, pairs=False):
    """``f(texts[, pairs]) -> head(packed inputs)``: one cached ``tf.function`` per
    ``(model, key, pairs)``; ``head(x)`` maps the packed dict x (B, W) to a tensor (B, ...).

    ``key`` names the head (e.g. ``("embed", "mean", True)``): the same model can carry
    several heads, and a new head object with the same key reuses the traced graph.
    """
    cache = _FUNCTIONS.setdefault(model, {})
    if (key, pairs) not in cache:
        tokenizer, seq_length = run.tokenizer, int(run.config["seq_length"])

        def call(texts, second=None):
            packed, lengths = _pack(tokenizer, seq_length, texts, second)  # (B, seq_length), (B,)
            width = tf.minimum(tf.cast(seq_length, lengths.dtype),
                               tf.maximum(tf.reduce_max(lengths), 1) + specials(pairs))
            return head({k: v[:, :width] for k, v in packed.items()})  # (B, W) -> (B, ...)

        cache[(key, pairs)] = _function(call, pairs)
    return cache[(key, pairs)]


def map_texts(run, fn, texts, pairs=None, batch_size=32):
    """``fn`` (a ``text_function``) over ``texts`` in length-sorted batches; numpy results
    stacked in input order. One batch (N <= batch_size) is one call, no sorting needed."""
    from kerasllm.data.length_batching import length_order_map

    texts = list(texts)
    if len(texts) <= batch_size:
        return _call(fn, texts, pairs, range(len(texts)))
    lengths = packed_lengths(run.tokenizer, int(run.config["seq_length"]), texts, pairs)
    return length_order_map(lambda rows: _call(fn, texts, pairs, rows), lengths, batch_size)


def _call(fn, texts, pairs, rows):
    args = [strings([texts[i] for i in rows])]
    if pairs is not None:
        args.append(strings([pairs[i] for i in rows]))
    return fn(*args).numpy()


def pool(hidden, padding_mask, pooling, normalize):
    """Sentence vectors (B, H) from ``hidden`` (B, T, H): "cls" or masked "mean" (real tokens,
    [CLS] and [SEP] included), optionally L2-normalised."""
    hidden = tf.cast(hidden, tf.float32)  # mixed precision: pool in float32
    if pooling == "cls":
        vectors = hidden[:, 0]  # (B, H)
    else:
        mask = tf.cast(padding_mask, hidden.dtype)[:, :, tf.newaxis]  # (B, T, 1)
        vectors = tf.reduce_sum(hidden * mask, axis=1) / tf.maximum(
            tf.reduce_sum(mask, axis=1), 1.0)  # (B, H)
    if normalize:
        vectors = vectors / tf.maximum(tf.norm(vectors, axis=-1, keepdims=True), 1e-12)
    return vectors
