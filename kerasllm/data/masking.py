"""Masked-LM masking of a whole batch at once, with stateless (seeded) random ops.

BERT's procedure: choose ``min(max_predictions, max(1, round(n * rate)))``
of a row's ``n`` real tokens, never ``[CLS]``/``[SEP]``/``[PAD]``; replace 80 %
of the chosen with ``[MASK]``, 10 % with a random vocabulary id, keep 10 %.
With whole-word masking a word and its ``##`` pieces are chosen together.

Why not ``tf_text.mask_language_model`` / ``keras_hub.layers.MaskedLMMaskGenerator``:
their ``RandomItemSelector`` shuffles each row inside a ``map_fn`` (slow per
batch), uses stateful random ops (no reproducible shards, and no control over
new-mask-per-epoch), rounds the count up instead of BERT's round, and caps
whole-word masking in words rather than in wordpieces, which can overflow
``max_predictions``. Here selection is one ``top_k`` over random scores for the
whole ``(B, T)`` batch, seeded by a ``(2,)`` stateless seed.
"""
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from kerasllm.data.special_tokens import SPECIAL_TOKENS
from kerasllm.errors import DataError


@dataclass(frozen=True)
class VocabularyInfo:
    """Ids the pretraining pipeline needs, read from a BERT vocabulary list.

    ``is_continuation[i]`` is True for ``##`` pieces (whole-word masking).
    """

    vocabulary_size: int
    pad_id: int
    unk_id: int
    cls_id: int
    sep_id: int
    mask_id: int
    is_continuation: np.ndarray

    @classmethod
    def from_tokens(cls, tokens, source="vocabulary"):
        """From the vocabulary list (line i = token of id i)."""
        index = {}
        for i, token in enumerate(tokens):
            index.setdefault(token, i)
        missing = [t for t in SPECIAL_TOKENS if t not in index]
        if missing:
            raise DataError(
                f"{source}: lacks special token(s) {', '.join(missing)}; a BERT vocab.txt needs "
                f"{', '.join(SPECIAL_TOKENS)} (learn one with `kerasllm vocab`)."
            )
        pad, unk, cls_, sep, mask = (index[t] for t in SPECIAL_TOKENS)
        continuation = np.array([t.startswith("##") for t in tokens], dtype=bool)
        return cls(len(tokens), pad, unk, cls_, sep, mask, continuation)

    @classmethod
    def from_tokenizer(cls, tokenizer):
        """From a ``WordPieceTokenizer`` (its ``vocabulary`` list)."""
        return cls.from_tokens(list(tokenizer.vocabulary), source=getattr(tokenizer, "vocab_file", None) or "vocabulary")


def mask_batch(token_ids, padding_mask, vocab, seed, max_predictions, masked_lm_prob=0.15,
               whole_word_masking=False, mask_token_rate=0.8, random_token_rate=0.1):
    """Mask a batch of packed rows.

    Args:
        token_ids: ``(B, T)`` int32 packed ``[CLS] A [SEP] B [SEP] [PAD]...``.
        padding_mask: ``(B, T)`` 1 for real tokens.
        vocab: a ``VocabularyInfo``.
        seed: ``(2,)`` int stateless seed; same seed and rows => same masks.
        max_predictions: ``P``, the cap and the width of the outputs.

    Returns:
        dict ``token_ids`` (B, T) masked, ``mask_positions`` (B, P) int32
        (ascending, 0-padded), ``mask_ids`` (B, P) int32 original ids,
        ``mask_weights`` (B, P) float32 (1 = real prediction).
    """
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    real = tf.cast(padding_mask, tf.bool)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    specials = tf.constant([vocab.cls_id, vocab.sep_id, vocab.pad_id], tf.int32)
    candidate = real & ~tf.reduce_any(token_ids[..., None] == specials, axis=-1)  # (B, T)
    n_real = tf.reduce_sum(tf.cast(real, tf.float32), axis=1)
    n_predict = tf.minimum(tf.cast(max_predictions, tf.float32), tf.maximum(1.0, tf.round(n_real * masked_lm_prob)))
    n_predict = tf.minimum(tf.cast(n_predict, tf.int32), tf.reduce_sum(tf.cast(candidate, tf.int32), axis=1))
    selected = _select(token_ids, candidate, n_predict, vocab, seeds[0], whole_word_masking, max_predictions)

    shape = tf.shape(token_ids)
    choice = tf.random.stateless_uniform(shape, seeds[1])
    random_ids = tf.random.stateless_uniform(shape, seeds[2], 0, vocab.vocabulary_size, dtype=tf.int32)
    replaced = tf.where(choice < mask_token_rate, vocab.mask_id,
                        tf.where(choice < mask_token_rate + random_token_rate, random_ids, token_ids))
    masked_ids = tf.where(selected, replaced, token_ids)

    # Selected positions in ascending order: top_k of (T - position) over selected tokens.
    length = shape[1]
    key = tf.where(selected, length - tf.range(length)[None, :], 0)
    values, positions = tf.math.top_k(key, k=max_predictions, sorted=True)  # (B, P)
    weights = tf.cast(values > 0, tf.float32)
    positions = positions * tf.cast(values > 0, tf.int32)
    mask_ids = tf.gather(token_ids, positions, batch_dims=1) * tf.cast(values > 0, tf.int32)
    return {"token_ids": masked_ids, "mask_positions": positions, "mask_ids": mask_ids, "mask_weights": weights}


def _select(token_ids, candidate, n_predict, vocab, seed, whole_word_masking, max_predictions):
    """``(B, T)`` bool: ``n_predict`` random candidates per row (whole words if asked).

    Every candidate gets a random score and the ``n_predict`` highest win; a
    ``top_k`` of width ``max_predictions`` finds each row's threshold without
    sorting the row. With whole-word masking all pieces of a word share the
    score of its first piece and words are taken best-first while their
    pieces still fit in ``n_predict`` (the first word always, if it fits in
    ``max_predictions``).
    """
    scores = tf.random.stateless_uniform(tf.shape(token_ids), seed)  # (B, T) in [0, 1)
    if not whole_word_masking:
        top = tf.math.top_k(tf.where(candidate, scores, -1.0), k=max_predictions).values  # (B, P)
        threshold = tf.gather(top, tf.maximum(n_predict - 1, 0), batch_dims=1)  # (B,)
        return candidate & (scores >= threshold[:, None])
    continuation = tf.gather(tf.constant(vocab.is_continuation), token_ids)
    word_start = candidate & ~(continuation & _shift_right(candidate))  # a piece after a candidate joins it
    batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
    word = tf.cumsum(tf.cast(word_start, tf.int32), axis=1)  # (B, T) word number in its row
    word = word + tf.range(batch)[:, None] * (length + 1)  # unique over the batch
    segments = batch * (length + 1)
    word_length = tf.math.unsorted_segment_sum(tf.cast(candidate, tf.int32), word, segments)
    word_score = tf.math.unsorted_segment_max(tf.where(word_start, scores, -1.0), word, segments)
    top = tf.math.top_k(tf.where(word_start, scores, -1.0), k=max_predictions)  # best words, (B, P)
    taken = tf.cumsum(tf.gather(tf.gather(word_length, word), top.indices, batch_dims=1), axis=1)  # (B, P)
    first = tf.range(max_predictions)[None, :] == 0
    fits = (top.values >= 0) & ((taken <= n_predict[:, None]) | (first & (taken <= max_predictions)))
    n_words = tf.reduce_sum(tf.cast(fits, tf.int32), axis=1)  # (B,) words taken
    threshold = tf.gather(top.values, tf.maximum(n_words - 1, 0), batch_dims=1)
    threshold = tf.where(n_words > 0, threshold, 2.0)  # nothing fits: select nothing
    return candidate & (tf.gather(word_score, word) >= threshold[:, None])


def _shift_right(x):
    """``x`` shifted one step right along axis 1, False filled in."""
    return tf.concat([tf.zeros_like(x[:, :1]), x[:, :-1]], axis=1)
