"""Batch streams whose order depends only on (seed, epoch, batch index).

Resuming after a crash, splitting batches over replicas or workers, and
Keras' own extra iterator under a distribution strategy (``fit`` pulls one
batch to build the model, then starts a fresh iterator) all create new
iterators over the input. A ``shuffle(reshuffle_each_iteration=True)`` or a
Python generator that counts its passes gives each new iterator a different
order, so runs that should match do not. Every stream here is a function
``skip -> tf.data.Dataset`` that starts exactly ``skip`` global batches into
an infinite, fixed sequence of epochs. (The pretraining stream over a text
corpus is ``kerasllm.data.streaming.PretrainingStream``, which keeps the
same contract.)
"""
import numpy as np
import tensorflow as tf

from kerasllm.data.length_batching import cut_batch, grouped_order, lengths_of

_EPOCHS = 1 << 30  # "forever"


def array_batches(arrays, batch_size, seed, shuffle=True):
    """Stream over in-memory examples (``arrays``: nested numpy, first axis = examples).

    Epoch ``e`` is a stateless permutation seeded by ``(seed, e)``, cut into
    ``len // batch_size`` full batches. Returns ``(batches, steps_per_epoch)``.
    """
    n = len(tf.nest.flatten(arrays)[0])
    steps = n // batch_size
    data = tf.nest.map_structure(tf.constant, arrays)

    def epoch(e):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([seed, e]))
        order = tf.reshape(order[: steps * batch_size], [steps, batch_size])  # (S, B)
        return tf.data.Dataset.from_tensor_slices(order).map(
            lambda idx: tf.nest.map_structure(lambda a: tf.gather(a, idx), data))

    def batches(skip):
        first, within = divmod(skip, steps)
        epochs = tf.data.Dataset.range(first, _EPOCHS)
        return epochs.flat_map(epoch).skip(within).prefetch(tf.data.AUTOTUNE)

    return batches, steps


def length_grouped_batches(x, y, batch_size, seed, widths=None):
    """Stream over packed texts ``x`` (numpy dict, (N, seq_length)) and targets ``y``
    (an array, or a tuple such as per-token tags and weights (N, seq_length)) in
    batches of similar length, each cut to its longest row, or under XLA to one
    of ``widths`` (``kerasllm.data.length_batching``).

    Epoch ``e`` is ``grouped_order(lengths, ..., seed, e)``: fixed by the seed,
    so ``batches(skip)`` resumes exactly. Returns ``(batches, steps_per_epoch)``.
    """
    lengths = lengths_of(x)
    steps = len(lengths) // batch_size
    data = tf.nest.map_structure(tf.constant, (x, y))

    def take(idx):  # (B,) indices -> one cut batch
        xb, yb = tf.nest.map_structure(lambda a: tf.gather(a, idx), data)
        return cut_batch(xb, *(yb if isinstance(yb, tuple) else (yb,)), widths=widths)

    def batches(skip):
        first, within = divmod(skip, steps)
        epochs = tf.data.Dataset.range(first, _EPOCHS)
        order = epochs.flat_map(lambda e: tf.data.Dataset.from_tensor_slices(
            grouped_order(lengths, batch_size, steps, seed, e)))
        return order.skip(within).map(take).prefetch(tf.data.AUTOTUNE)

    return batches, steps


def dataset_batches(dataset, steps_per_epoch):
    """Stream over a finite, already deterministic ``dataset`` of batches (e.g. TFRecords
    read without shuffling, or Zaremba-ordered LM windows): repeat and skip."""
    def batches(skip):
        return dataset.repeat().skip(skip).prefetch(tf.data.AUTOTUNE)
    return batches, steps_per_epoch


def count_batches(dataset):
    """Number of batches in a finite dataset (its cardinality, or one pass to count)."""
    n = int(dataset.cardinality())
    if n >= 0:
        return n
    return int(dataset.reduce(np.int64(0), lambda count, _: count + 1))
