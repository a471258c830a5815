"""Pretraining batches built on the fly, with new pairs and a new mask every pass.

Instead of writing shards, the corpus is tokenized once (``TokenizedCorpus``)
and pass ``e`` over it plans fresh pairs with the seed ``(seed, e)`` (spans of
token offsets; the only Python step). A parallel ``tf.data`` map packs each
block of rows with vectorised gathers (``pack_spans``) and masks it *after*
batching (``masking.mask_batch``, stateless seeds); blocks are then split
into batches (``rebatch``) and prefetched. Same seed => same stream;
different pairs and masks every pass (dynamic masking, as in RoBERTa).

Two views of the one stream:

* ``PretrainingStream.batches(skip)``: what the training jobs use. Passes are
  laid end to end into one endless sequence of rows, cut into full batches.
  Passes plan different numbers of pairs (planning is random), so a batch may
  hold the end of one pass and the start of the next; no batch is ever short
  and the stream never ends. It starts exactly ``skip`` batches in, whichever
  iterator asks, so a resumed run sees the batches an uninterrupted one would.
* ``streaming_pretraining_dataset``: one pass per iteration (a finite
  dataset, the last batch possibly short), for evaluation and for callers
  that ``fit`` epoch by epoch.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pair_planning import PairPlan, check_pairable
from kerasllm.data.pretraining_examples import PretrainingConfig, check_task, pack_spans, plan_epoch, to_task_format
from kerasllm.errors import DataError

_BLOCK_ROWS = 1024  # rows masked per call: per-call op overhead dominates small batches


def _pair_config(config, task):
    """``config`` with the pair kind that ``task`` needs, validated."""
    check_task(task)
    return dataclasses.replace(config or PretrainingConfig(), task="sop" if "sop" in task else "nsp").validate()


def _block_size(batch_size):
    """Rows per generator block: whole batches, about ``_BLOCK_ROWS`` of them."""
    return batch_size * max(1, _BLOCK_ROWS // batch_size)


def _block_signature():
    span = tf.TensorSpec([None], tf.int64)
    return (span, span, span, span, tf.TensorSpec([None], tf.int32), tf.TensorSpec([2], tf.int64))


def _block(rows, seed):
    """A generator element: the rows' spans and labels, and the block's masking seed."""
    return (rows.a_start, rows.a_length, rows.b_start, rows.b_length, rows.labels.astype(np.int32),
            np.asarray(seed, np.int64))


def _mask_and_format_fn(corpus, vocab, config, task):
    """The ``Dataset.map`` function over blocks: pack the rows, mask them (MLM tasks)
    and return ``(x, y, sample_weight)``."""
    ids = corpus.ids_tensor

    def mask_and_format(a_start, a_length, b_start, b_length, labels, seed):
        batch = pack_spans(ids, a_start, a_length, b_start, b_length, config.seq_length, vocab)
        batch["labels"] = labels
        if task.startswith("mlm"):
            batch.update(mask_batch(batch["token_ids"], batch["padding_mask"], vocab, seed, config.max_predictions,
                                    config.masked_lm_prob, config.whole_word_masking))
        return to_task_format(batch, task)

    return mask_and_format


def _to_batches(generator, corpus, vocab, config, task, batch_size, drop_remainder=False):
    ds = tf.data.Dataset.from_generator(generator, output_signature=_block_signature())
    ds = ds.map(_mask_and_format_fn(corpus, vocab, config, task), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)
    return ds.rebatch(batch_size, drop_remainder=drop_remainder)


class _Planner:
    """Plans pass ``index`` with the seed ``(seed, index)``; remembers every pass's length
    (an int each, so finding where a resumed run starts is cheap) and the last plan."""

    def __init__(self, corpus, config):
        self.corpus, self.config = corpus, config
        self._lengths = {}
        self._last = (None, None)

    def plan(self, index):
        last_index, last_plan = self._last  # one read: other iterators' threads may swap it
        if last_index == index:
            return last_plan
        plan = plan_epoch(self.corpus, self.config, np.random.default_rng([self.config.seed, index]))
        self._last, self._lengths[index] = (index, plan), len(plan)
        return plan

    def length(self, index):
        if index not in self._lengths:
            self.plan(index)
        return self._lengths[index]


class PretrainingStream:
    """The endless, seed-determined stream of pretraining batches a job trains on.

    Args:
        corpus: a ``TokenizedCorpus``.
        vocab: a ``VocabularyInfo``.
        batch_size: rows per (global) batch.
        task: ``"mlm+nsp"``, ``"mlm"``, ``"nsp"``, ``"sop"`` or ``"mlm+sop"``.
        config: a ``PretrainingConfig`` (lengths, rates, seed); ``task`` and
            ``dupe_factor`` are ignored.

    Attributes:
        steps_per_pass: full batches in the first pass (one "epoch" of a job;
            later passes differ by a few pairs).

    Raises ``DataError`` when the first pass plans fewer pairs than one batch.

    Example:
    ```python
    stream = PretrainingStream(corpus, vocab, batch_size=32)
    pretrainer.fit(stream.batches(), steps_per_epoch=stream.steps_per_pass, epochs=40)
    ```
    """

    def __init__(self, corpus, vocab, batch_size, task="mlm+nsp", config=None):
        self.corpus, self.vocab, self.task = corpus, vocab, task
        self.config = _pair_config(config, task)
        check_pairable(corpus, self.config.task)
        self.batch_size = int(batch_size)
        self.block_size = _block_size(self.batch_size)
        self.planner = _Planner(corpus, self.config)
        first = self.planner.length(0)
        if first < self.batch_size:
            raise DataError(
                f"the corpus gives {first} pretraining pairs per pass ({corpus.num_documents} documents, "
                f"{len(corpus.ids)} tokens), fewer than one batch of {self.batch_size}; add text "
                f"(at least {self.batch_size} pairs) or lower the batch size.")
        self.steps_per_pass = first // self.batch_size

    def _locate(self, row):
        """``(pass, row within it)`` of row ``row`` of the endless sequence."""
        index = 0
        while row >= self.planner.length(index):
            row -= self.planner.length(index)
            index += 1
        return index, row

    def _blocks(self, first_block):
        """Blocks of exactly ``block_size`` rows from block ``first_block`` on, forever;
        a block's rows and mask depend only on ``(seed, block index)``."""
        index, row = self._locate(first_block * self.block_size)
        block = first_block
        while True:
            parts, need = [], self.block_size
            while need:
                plan = self.planner.plan(index)
                part = plan.take(slice(row, row + need))
                parts.append(part)
                need -= len(part)
                row += len(part)
                if row >= len(plan):
                    index, row = index + 1, 0
            yield _block(PairPlan.concatenate(parts), [self.config.seed, block])
            block += 1

    def batches(self, skip=0):
        """The endless ``tf.data.Dataset`` of ``(x, y, sample_weight)`` batches, ``skip`` batches in."""
        per_block = self.block_size // self.batch_size
        first_block, within = divmod(int(skip), per_block)
        ds = _to_batches(lambda: self._blocks(first_block), self.corpus, self.vocab, self.config, self.task,
                         self.batch_size, drop_remainder=True)
        return ds.skip(within).prefetch(tf.data.AUTOTUNE)


class _Passes:
    """Generator factory: each new iterator is the next pass, cut into blocks."""

    def __init__(self, planner, block_size):
        self.planner, self.block_size, self.index = planner, block_size, 0

    def __call__(self):
        index, self.index = self.index, self.index + 1
        plan, size, seed = self.planner.plan(index), self.block_size, self.planner.config.seed
        for start in range(0, len(plan), size):
            yield _block(plan.take(slice(start, start + size)), [seed, (index << 24) + start // size])


def streaming_pretraining_dataset(corpus, vocab, batch_size, task="mlm+nsp", config=None, drop_remainder=False):
    """A ``tf.data.Dataset`` of ``(x, y, sample_weight)`` pretraining batches, one pass per iteration.

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

    For training for many steps use ``PretrainingStream(...).batches()``:
    passes differ in length, and it never yields a short batch.

    Example:
    ```python
    corpus = TokenizedCorpus.from_documents(documents, tokenizer)
    ds = streaming_pretraining_dataset(corpus, VocabularyInfo.from_tokenizer(tokenizer), 32)
    pretrainer.fit(ds, epochs=3)  # new pairs and new masks every epoch
    ```
    """
    config = _pair_config(config, task)
    check_pairable(corpus, config.task)
    passes = _Passes(_Planner(corpus, config), _block_size(batch_size))
    return _to_batches(passes, corpus, vocab, config, task, batch_size, drop_remainder).prefetch(tf.data.AUTOTUNE)
