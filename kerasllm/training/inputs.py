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
