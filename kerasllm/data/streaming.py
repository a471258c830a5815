"""Pretraining batches built on the fly, with a new mask every pass.

Instead of writing shards, the corpus is tokenized once (``TokenizedCorpus``)
and every time the dataset is iterated (each ``fit`` epoch, each ``repeat``)
a generator plans new pairs for the whole corpus (spans of token offsets;
the only Python step), and a parallel ``tf.data`` map packs each block of
rows with vectorised gathers (``pack_spans``) and masks it *after* batching
(``masking.mask_batch``, stateless seeds); blocks are then split into batches
(``rebatch``) and prefetched.
Pass ``i`` uses the seed ``(seed, i)``: reproducible, yet different pairs and
different masks every epoch (dynamic masking, as in RoBERTa).
"""
import dataclasses

import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pair_planning import check_pairable
from kerasllm.data.pretraining_examples import PretrainingConfig, check_task, pack_spans, plan_epoch, to_task_format

_BLOCK_ROWS = 1024  # rows masked per call: per-call op overhead dominates small batches


def epoch_blocks(corpus, config, epoch, block_size, first_block=0):
    """Planned pairs of epoch ``epoch`` in blocks; each depends only on ``(config.seed, epoch)``.

    Yields tuples ``(a_start, a_length, b_start, b_length, labels, seed)`` as
    ``block_signature`` describes: spans into ``corpus.ids`` (packed later,
    in parallel, by ``mask_and_format_fn``) and the block's stateless masking
    seed, unique per (epoch, block). Blocks before ``first_block`` are skipped
    (resuming mid-epoch). Only the planning runs in Python.
    """
    plan = plan_epoch(corpus, config, np.random.default_rng([config.seed, epoch]))
    for index in range(first_block, -(-len(plan) // block_size)):
        rows = plan.take(slice(index * block_size, (index + 1) * block_size))
        seed = np.array([config.seed, (epoch << 24) + index], np.int64)
        yield rows.a_start, rows.a_length, rows.b_start, rows.b_length, rows.labels.astype(np.int32), seed


def block_signature(block_size=None):
    """``output_signature`` of ``epoch_blocks`` for ``tf.data.Dataset.from_generator``."""
    span = tf.TensorSpec([block_size], tf.int64)
    return (span, span, span, span, tf.TensorSpec([block_size], tf.int32), tf.TensorSpec([2], tf.int64))


def mask_and_format_fn(corpus, vocab, config, task):
    """The ``Dataset.map`` function over ``epoch_blocks``: packs the rows,
    masks them (MLM tasks) and returns ``(x, y, sample_weight)``."""
    check_task(task)
    ids = corpus.ids_tensor

    def mask_and_format(a_start, a_length, b_start, b_length, labels, seed):
        batch = pack_spans(ids, a_start, a_length, b_start, b_length, config.max_seq_length, vocab)
        batch["labels"] = labels
        if task.startswith("mlm"):
            batch.update(mask_batch(batch["token_ids"], batch["padding_mask"], vocab, seed, config.max_predictions,
                                    config.masked_lm_prob, config.whole_word_masking))
        return to_task_format(batch, task)

    return mask_and_format


class _Passes:
    """Generator factory: each new iterator is the next epoch."""

    def __init__(self, corpus, config, block_size):
        self.corpus, self.config, self.block_size, self.epoch = corpus, config, block_size, 0

    def __call__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        yield from epoch_blocks(self.corpus, self.config, epoch, self.block_size)


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
    check_pairable(corpus, config.task)
    # Blocks of whole batches are masked together, then split into batches (same rows either way).
    block_size = batch_size * max(1, _BLOCK_ROWS // batch_size)
    ds = tf.data.Dataset.from_generator(_Passes(corpus, config, block_size), output_signature=block_signature())
    ds = ds.map(mask_and_format_fn(corpus, vocab, config, task), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.rebatch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
