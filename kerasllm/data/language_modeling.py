"""Language-modelling data: one long token stream cut into windows with next-token targets.

Two orderings:

* ``stateful=False``: non-overlapping windows of ``seq_length`` tokens, shuffled;
  x = stream[i : i+T], y = stream[i+1 : i+T+1].
* ``stateful=True`` (truncated BPTT, Zaremba et al. PTB batching): the stream is
  cut into ``batch_size`` contiguous lanes; batch k holds window k of every lane,
  so row b of batch k+1 continues row b of batch k and an LSTM can carry its
  state across batches. Never shuffled; every batch has exactly ``batch_size`` rows.
"""
import numpy as np
import tensorflow as tf

from kerasllm.data.corpus import iter_documents
from kerasllm.errors import DataError


def token_stream(tokenizer, lines, chunk_size=4096):
    """Tokenize lines (``WordTokenizer`` appends <eos> per line) and concatenate: int32 (N,)."""
    lines = list(lines)
    parts = [tokenizer.tokenize(lines[i:i + chunk_size]).flat_values.numpy()
             for i in range(0, len(lines), chunk_size)]
    return np.concatenate(parts).astype(np.int32) if parts else np.zeros([0], np.int32)


def corpus_token_stream(tokenizer, patterns, stats=None):
    """``token_stream`` of every line of the corpus files named by ``patterns``."""
    lines = (line for document in iter_documents(patterns, stats) for line in document.lines)
    return token_stream(tokenizer, lines)


def _check_length(stream, needed, seq_length, batch_size):
    if len(stream) < needed:
        raise DataError(f"The token stream has {len(stream)} tokens but batch_size {batch_size} x "
                        f"seq_length {seq_length} needs at least {needed}; use more text or smaller sizes.")


def stateful_batches(stream, seq_length, batch_size):
    """numpy (num_batches, B, T) inputs and targets in Zaremba lane order."""
    stream = np.asarray(stream, np.int32)
    lane_length = len(stream) // batch_size
    _check_length(stream, batch_size * (seq_length + 1), seq_length, batch_size)
    lanes = stream[: lane_length * batch_size].reshape(batch_size, lane_length)  # (B, L)
    num_batches = (lane_length - 1) // seq_length
    span = num_batches * seq_length
    x = lanes[:, :span].reshape(batch_size, num_batches, seq_length).transpose(1, 0, 2)  # (K, B, T)
    y = lanes[:, 1:span + 1].reshape(batch_size, num_batches, seq_length).transpose(1, 0, 2)
    return x, y


def lm_dataset(stream, seq_length, batch_size, stateful=False, shuffle=True, seed=0, drop_remainder=True):
    """tf.data of ``(x, y)`` int32 (B, T) batches for a next-token language model.

    Args:
        stream: int token ids (N,) (``token_stream`` / ``corpus_token_stream``).
        seq_length: tokens per window (T, the BPTT length).
        batch_size: rows per batch (B).
        stateful: Zaremba lane order for carried-over LSTM state (no shuffling).
        shuffle: shuffle windows every epoch (ignored when stateful).
        seed: shuffle seed.
        drop_remainder: drop a last smaller batch (always dropped when stateful).
    """
    if stateful:
        x, y = stateful_batches(stream, seq_length, batch_size)
        return tf.data.Dataset.from_tensor_slices((x, y))
    stream = np.asarray(stream, np.int32)
    num_windows = (len(stream) - 1) // seq_length
    _check_length(stream, (batch_size if drop_remainder else 1) * seq_length + 1, seq_length, batch_size)
    x = stream[: num_windows * seq_length].reshape(num_windows, seq_length)  # (N, T)
    y = stream[1: num_windows * seq_length + 1].reshape(num_windows, seq_length)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(num_windows, seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
