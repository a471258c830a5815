"""Pack one or two token segments as BERT input: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``.

Truncation is keras-hub's ``MultiSegmentPacker(truncate="round_robin")``: it
hands out the length budget one token at a time to each segment in turn, which
leaves exactly the lengths of BERT's ``_truncate_seq_pair`` (drop a token from
the end of the longer segment until the pair fits; B loses the tie). The
"waterfall" mode would cut B entirely before touching A, which is not BERT.
tests/test_data_packing.py checks the equivalence against a plain-Python
``truncate_seq_pair``.
"""
import functools

import keras_hub
import tensorflow as tf

from kerasllm.data.token_vocabulary import as_id_tensor
from kerasllm.errors import DataError


def _ragged_batch(ids):
    ids = as_id_tensor(ids)
    if not isinstance(ids, tf.RaggedTensor):
        ids = tf.RaggedTensor.from_tensor(ids[tf.newaxis] if ids.shape.rank == 1 else ids)
    return ids


@functools.lru_cache(maxsize=16)
def _packer(seq_length, cls_id, sep_id, pad_id):
    return keras_hub.layers.MultiSegmentPacker(
        sequence_length=seq_length, start_value=cls_id, end_value=sep_id,
        pad_value=pad_id, truncate="round_robin")


@tf.autograph.experimental.do_not_convert  # plain TF ops, no tensor-dependent Python control flow: skip slow autograph
def pack_inputs(tokenizer, a_ids, b_ids=None, seq_length=128):
    """Build encoder inputs from token ids (no special tokens yet).

    Args:
        tokenizer: anything with ``cls_id``, ``sep_id``, ``pad_id`` (a ``WordPieceTokenizer``).
        a_ids: first segments, (B, None) ragged / nested lists, or one 1-D sequence.
        b_ids: optional second segments, same batch size as ``a_ids``.
        seq_length: int, length of every output row (padded / truncated).

    Returns:
        dict of int32 (B, seq_length) tensors: ``token_ids``, ``segment_ids``
        (0 for [CLS] A [SEP], 1 for B [SEP]) and ``padding_mask`` (1 = real token).
    """
    specials = 2 if b_ids is None else 3
    if int(seq_length) <= specials:
        raise DataError(f"seq_length {seq_length} leaves no room for text after {specials} special "
                        "tokens; use a larger --seq-length (BERT uses 128 or 512).")
    packer = _packer(int(seq_length), tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id)
    segments = (_ragged_batch(a_ids),) if b_ids is None else (_ragged_batch(a_ids), _ragged_batch(b_ids))
    token_ids, segment_ids = packer(segments)  # (B, T) each
    lengths = sum(s.row_lengths() for s in segments) + specials  # (B,) before truncation
    positions = tf.range(int(seq_length), dtype=lengths.dtype)[tf.newaxis, :]
    padding_mask = positions < lengths[:, tf.newaxis]  # (B, T) True on [CLS] ... last [SEP]
    return {
        "token_ids": tf.cast(token_ids, tf.int32),
        "segment_ids": tf.cast(segment_ids, tf.int32),
        "padding_mask": tf.cast(padding_mask, tf.int32),
    }


def trim_to_longest(inputs):
    """Dynamic padding: cut a packed batch's columns to its longest real row."""
    from kerasllm.data.length_batching import cut_to_width

    return cut_to_width(inputs)
