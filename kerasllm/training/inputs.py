"""Batch streams whose order depends only on (seed, epoch, batch index).

Resuming after a crash, splitting batches over replicas or workers, and
Keras' own extra iterator under a distribution strategy (``fit`` pulls one
batch to build the model, then starts a fresh iterator) all create new
iterators over the input. A ``shuffle(reshuffle_each_iteration=True)`` or a
Python generator that counts its passes gives each new iterator a different
order, so runs that should match do not. Every stream here is a function
``skip -> tf.data.Dataset`` that starts exactly ``skip`` global batches into
an infinite, fixed sequence of epochs.
"""
import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pretraining_examples import pack_pairs, plan_epoch, to_task_format

_ROW_KEYS = ("token_ids", "segment_ids", "padding_mask")
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


def pretraining_batches(corpus, vocab, batch_size, task, config):
    """Stream of freshly paired and masked pretraining batches (dynamic masking).

    Built from ``kerasllm.data``'s public pieces (``plan_epoch``, ``pack_pairs``,
    ``mask_batch``, ``to_task_format``) like ``streaming_pretraining_dataset``,
    but epoch ``e`` uses the seed ``(config.seed, e)`` whichever iterator asks,
    and skipped batches are never packed or masked. Returns
    ``(batches, steps_per_epoch)``.
    """
    steps = len(plan_epoch(corpus, config, np.random.default_rng([config.seed, 0]))) // batch_size
    row = tf.TensorSpec([batch_size, config.max_seq_length], tf.int32)
    signature = (row, row, row, tf.TensorSpec([batch_size], tf.int32), tf.TensorSpec([2], tf.int64))

    def generate(skip):
        first, within = divmod(int(skip), steps)
        for e in range(first, _EPOCHS):
            plan = plan_epoch(corpus, config, np.random.default_rng([config.seed, e]))
            for index in range(within if e == first else 0, steps):
                rows = plan.take(slice(index * batch_size, (index + 1) * batch_size))
                batch = pack_pairs(corpus, rows, config.max_seq_length, vocab)
                seed = np.array([config.seed, (e << 24) + index], np.int64)
                yield tuple(batch[k] for k in _ROW_KEYS) + (batch["labels"], seed)

    def mask_and_format(token_ids, segment_ids, padding_mask, labels, seed):
        batch = {"token_ids": token_ids, "segment_ids": segment_ids,
                 "padding_mask": padding_mask, "labels": labels}
        if task.startswith("mlm"):
            batch.update(mask_batch(token_ids, padding_mask, vocab, seed, config.max_predictions,
                                    config.masked_lm_prob, config.whole_word_masking))
        return to_task_format(batch, task)

    def batches(skip):
        ds = tf.data.Dataset.from_generator(generate, args=(skip,), output_signature=signature)
        return ds.map(mask_and_format, num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True).prefetch(tf.data.AUTOTUNE)

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
