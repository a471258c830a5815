"""Pack token ids as ``[CLS] A [SEP] (B [SEP])`` with core TensorFlow ops only.

Same layout and truncation as the training packer (``kerasllm.data.packing``):
when the pair is too long the longer segment loses tokens first, which leaves
``A`` with ``max(ceil(budget / 2), budget - len(B))`` tokens at most.
Rows are padded to the longest packed row of the batch (at most ``seq_length``),
as ``kerasllm.inference`` does, so short requests stay fast.
Written with core ops for the same reason as ``serving_tokenizer.py``
(tf-text's ``RoundRobinTrimmer`` is not registered in stock TF Serving), on flat
``TokenList``s: one scatter builds the batch, where ragged concatenation and
``to_tensor`` would cost a hundred small ops for a one-text request.
"""
import tensorflow as tf

from kerasllm.export.serving_tokenizer import TokenList


def _trim_lengths(len_a, len_b, budget):
    """Lengths (B,) each segment keeps when at most ``budget`` tokens fit in total."""
    budget = tf.constant(budget, len_a.dtype)
    keep_a = tf.minimum(len_a, tf.maximum((budget + 1) // 2, budget - len_b))
    return keep_a, tf.minimum(len_b, budget - keep_a)


def token_list_from_ragged(ragged):
    """``TokenList`` of an int RaggedTensor (B, None)."""
    rows = ragged.value_rowids()
    starts = tf.gather(ragged.row_splits, rows)
    positions = tf.range(tf.size(rows, out_type=tf.int64)) - starts
    return TokenList(ragged.flat_values, rows, positions, ragged.nrows())


def pack_ids(a, b, seq_length, cls_id, sep_id, pad_id):
    """Pack ``TokenList`` ``a`` and optional ``b`` (same rows) into dense model inputs.

    Args:
        a: ``TokenList`` of int32 ids, first segment (a RaggedTensor (B, None) works too).
        b: ``TokenList`` / RaggedTensor or None, second segment.
        seq_length: int, most tokens per row (longer rows are truncated; shorter ones are
            padded with ``pad_id`` to the longest row of the batch).
        cls_id, sep_id, pad_id: int special token ids.

    Returns:
        dict of int32 (B, T <= seq_length): token_ids, segment_ids, padding_mask (1 = real token).
    """
    segments = [s if isinstance(s, TokenList) else token_list_from_ragged(s)
                for s in (a, b) if s is not None]
    nrows = segments[0].nrows
    lengths = [tf.math.unsorted_segment_sum(tf.ones_like(s.rows), s.rows, nrows)
               for s in segments]  # (B,) int64 each
    if len(segments) == 1:
        keeps = [tf.minimum(lengths[0], seq_length - 2)]
    else:
        keeps = list(_trim_lengths(lengths[0], lengths[1], seq_length - 3))
    offset = tf.ones_like(lengths[0])  # (B,) column of the next token: 1, after [CLS]
    indices, values, seps = [], [], []
    for segment, keep in zip(segments, keeps):
        kept = tf.reshape(tf.where(segment.positions < tf.gather(keep, segment.rows)), [-1])
        rows, positions = tf.gather(segment.rows, kept), tf.gather(segment.positions, kept)
        indices.append(tf.stack([rows, tf.gather(offset, rows) + positions], axis=1))  # (k, 2)
        values.append(tf.cast(tf.gather(segment.values, kept), tf.int32))
        offset += keep
        seps.append(offset)  # (B,) column of this segment's [SEP]
        offset += 1
    width = tf.reduce_max(tf.concat([offset, [0]], axis=0))  # T, longest packed row
    tokens = tf.scatter_nd(tf.concat(indices, axis=0), tf.concat(values, axis=0),
                           tf.stack([nrows, width]))  # (B, T), 0 off the tokens
    columns = tf.range(width)[None, :]  # (1, T)
    is_sep = tf.reduce_any(tf.stack([columns == s[:, None] for s in seps]), axis=0)  # (B, T)
    real = columns < offset[:, None]  # (B, T)
    tokens = tf.where(columns == 0, cls_id, tf.where(is_sep, sep_id, tokens))
    segment_ids = tf.zeros_like(tokens) if len(seps) == 1 else tf.cast(
        (columns > seps[0][:, None]) & real, tf.int32)
    return {
        "token_ids": tf.where(real, tokens, pad_id),  # (B, T)
        "segment_ids": segment_ids,
        "padding_mask": tf.cast(real, tf.int32),
    }
