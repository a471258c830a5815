"""Pretraining batches built on the fly, with a new mask every pass.

Instead of writing shards, the corpus is tokenized once (``TokenizedCorpus``)
and every time the dataset is iterated (each ``fit`` epoch, each ``repeat``)
a generator plans new pairs for the whole corpus with numpy, packs batches
with vectorised gathers, and ``masking.mask_batch`` masks each batch *after*
batching inside ``tf.data`` (parallel map, stateless seeds), then prefetches.
Pass ``i`` uses the seed ``(seed, i)``: reproducible, yet different pairs and
different masks every epoch (dynamic masking, as in RoBERTa).
"""
import dataclasses

import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pretraining_examples import PretrainingConfig, check_task, pack_pairs, plan_epoch, to_task_format

_ROW_KEYS = ("token_ids", "segment_ids", "padding_mask")


class _EpochBatches:
    """Generator factory: each call is one new pass (epoch) over the corpus."""

    def __init__(self, corpus, vocab, batch_size, config, drop_remainder):
        self.corpus, self.vocab, self.config = corpus, vocab, config
        self.batch_size, self.drop_remainder = batch_size, drop_remainder
        self.epoch = 0

    def __call__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        plan = plan_epoch(self.corpus, self.config, np.random.default_rng([self.config.seed, epoch]))
        for index, start in enumerate(range(0, len(plan), self.batch_size)):
            if self.drop_remainder and start + self.batch_size > len(plan):
                return
            rows = plan.take(slice(start, start + self.batch_size))
            batch = pack_pairs(self.corpus, rows, self.config.max_seq_length, self.vocab)
            seed = np.array([self.config.seed, (epoch << 24) + index], np.int64)  # unique per (epoch, batch)
            yield tuple(batch[k] for k in _ROW_KEYS) + (batch["labels"], seed)


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
    length = config.max_seq_length
    row = tf.TensorSpec([None, length], tf.int32)
    signature = (row, row, row, tf.TensorSpec([None], tf.int32), tf.TensorSpec([2], tf.int64))
    batches = _EpochBatches(corpus, vocab, batch_size, config, drop_remainder)
    ds = tf.data.Dataset.from_generator(batches, output_signature=signature)

    def mask_and_format(token_ids, segment_ids, padding_mask, labels, seed):
        batch = {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask, "labels": labels}
        if task.startswith("mlm"):
            batch.update(mask_batch(token_ids, padding_mask, vocab, seed, config.max_predictions,
                                    config.masked_lm_prob, config.whole_word_masking))
        return to_task_format(batch, task)

    return ds.map(mask_and_format, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
