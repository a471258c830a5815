"""Pack token ids as ``[CLS] A [SEP] (B [SEP])`` with core TensorFlow ops only.

Same layout and truncation as the training packer (``kerasllm.data.packing``):
when the pair is too long the longer segment loses tokens first, which leaves
``A`` with ``max(ceil(budget / 2), budget - len(B))`` tokens at most.
Rows are padded to the longest packed row of the batch (at most ``seq_length``),
as ``kerasllm.inference`` does, so short requests stay fast.
Written with core ops for the same reason as ``serving_tokenizer.py``
(tf-text's ``RoundRobinTrimmer`` is not registered in stock TF Serving).
"""
import tensorflow as tf


def _trim_lengths(len_a, len_b, budget):
    """Lengths (B,) each segment keeps when at most ``budget`` tokens fit in total."""
    keep_a = tf.minimum(len_a, tf.maximum((budget + 1) // 2, budget - len_b))
    return keep_a, tf.minimum(len_b, budget - keep_a)


def pack_ids(a, b, seq_length, cls_id, sep_id, pad_id):
    """Pack int RaggedTensors ``a`` (B, None) and optional ``b`` into dense model inputs.

    Args:
        a: int32 RaggedTensor (B, None), first segment.
        b: int32 RaggedTensor (B, None) or None, second segment.
        seq_length: int, most tokens per row (longer rows are truncated; shorter ones are
            padded with ``pad_id`` to the longest row of the batch).
        cls_id, sep_id, pad_id: int special token ids.

    Returns:
        dict of int32 (B, T <= seq_length): token_ids, segment_ids, padding_mask (1 = real token).
    """
    batch = a.nrows()
    cls = tf.fill([batch, 1], tf.constant(cls_id, tf.int32))
    sep = tf.fill([batch, 1], tf.constant(sep_id, tf.int32))
    if b is None:
        a = a[:, : seq_length - 2]
        parts, segments = [cls, a, sep], [0, 0, 0]
    else:
        len_a, len_b = (tf.cast(s.row_lengths(), tf.int32) for s in (a, b))
        keep_a, keep_b = _trim_lengths(len_a, len_b, seq_length - 3)
        a = tf.ragged.boolean_mask(a, tf.ragged.range(len_a) < keep_a[:, None])
        b = tf.ragged.boolean_mask(b, tf.ragged.range(len_b) < keep_b[:, None])
        parts, segments = [cls, a, sep, b, sep], [0, 0, 0, 1, 1]
    token_ids = tf.concat([tf.cast(p, tf.int32) for p in parts], axis=1)  # (B, None)
    segment_ids = tf.concat(
        [tf.zeros_like(tf.cast(p, tf.int32)) + s for p, s in zip(parts, segments)], axis=1)
    return {
        "token_ids": token_ids.to_tensor(default_value=pad_id),  # (B, T)
        "segment_ids": segment_ids.to_tensor(default_value=0),
        "padding_mask": tf.ones_like(token_ids).to_tensor(default_value=0),
    }
