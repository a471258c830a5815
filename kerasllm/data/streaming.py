"""Pretraining batches built on the fly, with a new mask every pass.

Instead of writing shards, the corpus is tokenized once (``TokenizedCorpus``)
and every time the dataset is iterated (each ``fit`` epoch, each ``repeat``)
a generator plans new pairs for the whole corpus with numpy, packs blocks of
rows with vectorised gathers, and ``masking.mask_batch`` masks each block
*after* batching inside ``tf.data`` (parallel map, stateless seeds); blocks
are then split into batches (``rebatch``) and prefetched.
Pass ``i`` uses the seed ``(seed, i)``: reproducible, yet different pairs and
different masks every epoch (dynamic masking, as in RoBERTa).
"""
import dataclasses

import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pretraining_examples import PretrainingConfig, check_task, pack_pairs, plan_epoch, to_task_format

_ROW_KEYS = ("token_ids", "segment_ids", "padding_mask")
_BLOCK_ROWS = 1024  # rows masked per call: per-call op overhead dominates small batches


def epoch_blocks(corpus, vocab, config, epoch, block_size, first_block=0):
    """Packed, unmasked blocks of epoch ``epoch``; each depends only on ``(config.seed, epoch)``.

    Yields tuples ``(token_ids, segment_ids, padding_mask, labels, seed)`` as
    ``block_signature`` describes; ``seed`` is the stateless masking seed of
    the block, unique per (epoch, block). Blocks before ``first_block`` are
    skipped without being packed (resuming mid-epoch).
    """
    plan = plan_epoch(corpus, config, np.random.default_rng([config.seed, epoch]))
    for index in range(first_block, -(-len(plan) // block_size)):
        rows = plan.take(slice(index * block_size, (index + 1) * block_size))
        batch = pack_pairs(corpus, rows, config.max_seq_length, vocab)
        seed = np.array([config.seed, (epoch << 24) + index], np.int64)
        yield tuple(batch[k] for k in _ROW_KEYS) + (batch["labels"], seed)


def block_signature(config, block_size=None):
    """``output_signature`` of ``epoch_blocks`` for ``tf.data.Dataset.from_generator``."""
    row = tf.TensorSpec([block_size, config.max_seq_length], tf.int32)
    return (row, row, row, tf.TensorSpec([block_size], tf.int32), tf.TensorSpec([2], tf.int64))


def mask_and_format_fn(vocab, config, task):
    """The ``Dataset.map`` function: masks a block (MLM tasks) and returns ``(x, y, sample_weight)``."""
    check_task(task)

    def mask_and_format(token_ids, segment_ids, padding_mask, labels, seed):
        batch = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask, "labels": labels}
        if task.startswith("mlm"):
            batch.update(mask_batch(token_ids, padding_mask, vocab, seed, config.max_predictions,
                                    config.masked_lm_prob, config.whole_word_masking))
        return to_task_format(batch, task)

    return mask_and_format


class _Passes:
    """Generator factory: each new iterator is the next epoch."""

    def __init__(self, corpus, vocab, config, block_size):
        self.args, self.block_size, self.epoch = (corpus, vocab, config), block_size, 0

    def __call__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        yield from epoch_blocks(*self.args, epoch, self.block_size)


def streaming_pretraining_dataset(corpus, vocab, batch_size, task="mlm+nsp", config=None, drop_remainder=False):
    """A ``tf.data.Dataset`` of ``(x, y, sample_weight)`` pretraining batches.

    Args:
        corpus: a ``TokenizedCorpus`` (tokenize once with
            ``TokenizedCorpus.from_documents(documents, tokenizer)``).
        vocab: a ``VocabularyInfo`` (``VocabularyInfo.from_tokenizer(tokenizer)``).
        batch_size: rows per batch.
        task: ``"mlm+nsp"``, ``"mlm"``, ``"nsp"``, ``"sop"`` or ``"mlm+sop"``.
        config: a ``PretrainingConfig`` for lengths, rates and seed;
            ``config.task`` and ``dupe_factor`` are ignored (the pair kind
            follows ``task``, and every pass is a new "dupe").
        drop_remainder: drop the last short batch of each pass.

    Example:
    ```python
    corpus = TokenizedCorpus.from_documents(documents, tokenizer)
    ds = streaming_pretraining_dataset(corpus, VocabularyInfo.from_tokenizer(tokenizer), 32)
    pretrainer.fit(ds, epochs=3)  # new pairs and new masks every epoch
    ```
    """
    check_task(task)
    config = dataclasses.replace(config or PretrainingConfig(), task="sop" if "sop" in task else "nsp").validate()
    # Blocks of whole batches are masked together, then split into batches (same rows either way).
    block_size = batch_size * max(1, _BLOCK_ROWS // batch_size)
    ds = tf.data.Dataset.from_generator(_Passes(corpus, vocab, config, block_size),
                                        output_signature=block_signature(config))
    ds = ds.map(mask_and_format_fn(vocab, config, task), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.rebatch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
