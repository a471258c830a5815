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
    return TokenList(ragged.flat_values, rows, positions, ragged.nrows(), ragged.row_lengths())


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
    lengths = [s.lengths for s in segments]  # (B,) int64 each
    if len(segments) == 1:
        keeps = [tf.minimum(lengths[0], seq_length - 2)]
    else:
        keeps = list(_trim_lengths(lengths[0], lengths[1], seq_length - 3))
    offset = tf.ones_like(lengths[0])  # (B,) column of the next token: 1, after [CLS]
    starts, seps = [], []  # (B,) each: column of each segment's first token, of its [SEP]
    for keep in keeps:
        starts.append(offset)
        seps.append(offset + keep)
        offset = seps[-1] + 1
    width = tf.reduce_max(tf.concat([offset, [0]], axis=0))  # T, longest packed row
    # Tokens past their row's budget are scattered to column 0, where [CLS] then replaces
    # them: cheaper than gathering the kept ones (op count is batch-1 latency).
    rows, columns = [], []
    for segment, start, sep in zip(segments, starts, seps):
        column = tf.gather(start, segment.rows) + segment.positions  # (k,)
        columns.append(tf.where(column < tf.gather(sep, segment.rows), column, 0))
        rows.append(segment.rows)
    indices = tf.stack([tf.concat(rows, axis=0), tf.concat(columns, axis=0)], axis=1)  # (k, 2)
    values = tf.concat([tf.cast(s.values, tf.int32) for s in segments], axis=0)
    tokens = tf.scatter_nd(indices, values, tf.stack([nrows, width]))  # (B, T), sums at 0
    columns = tf.range(width)[None, :]  # (1, T)
    is_sep = [columns == s[:, None] for s in seps]  # (B, T) each
    is_sep = is_sep[0] if len(is_sep) == 1 else is_sep[0] | is_sep[1]
    real = columns < offset[:, None]  # (B, T)
    tokens = tf.where(columns == 0, cls_id, tf.where(is_sep, sep_id, tokens))  # 0 past the end
    segment_ids = tf.zeros_like(tokens) if len(seps) == 1 else tf.cast(
        (columns > seps[0][:, None]) & real, tf.int32)
    return {
        "token_ids": tokens if pad_id == 0 else tf.where(real, tokens, pad_id),  # (B, T)
        "segment_ids": segment_ids,
        "padding_mask": tf.cast(real, tf.int32),
    }
