"""BERT pretraining examples: options, packing of planned pairs, model format.

The pipeline, shared by the TFRecord writer (``tfrecords.py``, static masks)
and the streaming dataset (``streaming.py``, a new mask every pass):

    TokenizedCorpus --plan_epoch--> PairPlan --pack_pairs--> rows (N, T)
        --masking.mask_batch--> masked rows --to_task_format--> (x, y, sample_weight)
"""
from dataclasses import InitVar, asdict, dataclass
from typing import Optional

import numpy as np
import tensorflow as tf

from kerasllm import tasks
from kerasllm.data.pair_planning import TASKS, PairPlan, plan_pairs
from kerasllm.errors import DataError

MAX_SEQ_LENGTH = 512  # max_sequence_length of every BERT preset and checkpoint
DEFAULT_SEQ_LENGTH = 128

MODEL_TASKS = tasks.names(job="pretrain")


@dataclass
class PretrainingConfig:
    """Options of ``create_pretraining_data`` (same names and defaults as BERT's flags).

    Args:
        seq_length: length of every ``[CLS] A [SEP] B [SEP]`` row (BERT's flag, and this
            class before, called it ``max_seq_length``; that keyword is still accepted).
        max_predictions: at most this many masked tokens per row.
        masked_lm_prob: fraction of a row's tokens to mask.
        short_seq_prob: probability of a shorter target length.
        dupe_factor: passes over the corpus, each with different pairs and masks.
        task: ``"nsp"`` (label 1 = B is random) or ``"sop"`` (label 1 = swapped).
        whole_word_masking: mask all ``##`` pieces of a word together.
        seed: same seed => identical examples.
    """

    seq_length: int = DEFAULT_SEQ_LENGTH
    max_predictions: int = 20
    masked_lm_prob: float = 0.15
    short_seq_prob: float = 0.1
    dupe_factor: int = 5
    task: str = "nsp"
    whole_word_masking: bool = False
    seed: int = 12345
    max_seq_length: InitVar[Optional[int]] = None  # the old name of seq_length

    def __post_init__(self, max_seq_length):
        if max_seq_length is not None:
            if self.seq_length not in (max_seq_length, DEFAULT_SEQ_LENGTH):
                raise DataError(f"PretrainingConfig: seq_length={self.seq_length} and its old name "
                                f"max_seq_length={max_seq_length} disagree; pass seq_length only.")
            self.seq_length = max_seq_length

    def validate(self, source="pretraining options", as_flags=False):
        """Raise ``DataError`` naming the first bad option (as ``--flag`` if ``as_flags``); returns self."""
        checks = [
            ("seq_length", 5 <= self.seq_length <= MAX_SEQ_LENGTH,
             f"between 5 and {MAX_SEQ_LENGTH} (the most positions a BERT model holds)"),
            ("max_predictions", 1 <= self.max_predictions <= self.seq_length, "between 1 and seq_length"),
            ("masked_lm_prob", 0.0 < self.masked_lm_prob < 1.0, "a probability in (0, 1)"),
            ("short_seq_prob", 0.0 <= self.short_seq_prob <= 1.0, "a probability in [0, 1]"),
            ("dupe_factor", self.dupe_factor >= 1, "an integer >= 1"),
            ("task", self.task in TASKS, f"one of {', '.join(TASKS)}"),
        ]
        for key, ok, expected in checks:
            if not ok:
                name = "--" + key.replace("_", "-") if as_flags else f"key '{key}'"
                raise DataError(f"{source}: {name} must be {expected}; received {getattr(self, key)!r}.")
        return self

    def to_dict(self):
        return asdict(self)


# Read access under the old name, for callers written before the rename.
PretrainingConfig.max_seq_length = property(lambda self: self.seq_length)


def plan_epoch(corpus, config, rng):
    """One pass of pairs over the corpus, shuffled; a ``PairPlan``."""
    plan = plan_pairs(corpus, config.seq_length, config.short_seq_prob, config.task, rng)
    return plan.take(rng.permutation(len(plan)))


def plan_dupes(corpus, config):
    """``dupe_factor`` passes with a ``seed``-ed RNG, shuffled together (as BERT does)."""
    rng = np.random.default_rng(config.seed)
    plans = [plan_pairs(corpus, config.seq_length, config.short_seq_prob, config.task, rng)
             for _ in range(config.dupe_factor)]
    plan = PairPlan.concatenate(plans)
    return plan.take(rng.permutation(len(plan)))


def pack_pairs(corpus, plan, seq_length, vocab):
    """Rows ``[CLS] A [SEP] B [SEP] [PAD]...`` for every pair of ``plan``, as numpy.

    Returns dict of numpy arrays: ``token_ids``, ``segment_ids``,
    ``padding_mask`` (N, T) int32 and ``labels`` (N,) int32.
    """
    spans = (plan.a_start, plan.a_length, plan.b_start, plan.b_length)
    rows = pack_spans(corpus.ids_tensor, *spans, seq_length, vocab)
    rows = {key: value.numpy() for key, value in rows.items()}
    rows["labels"] = plan.labels.astype(np.int32)
    return rows


def pack_spans(ids, a_start, a_length, b_start, b_length, seq_length, vocab):
    """TF op version of ``pack_pairs`` (used inside ``tf.data`` maps).

    ``ids`` is the corpus' token ids (1-D); A of row ``n`` is
    ``ids[a_start[n] : a_start[n] + a_length[n]]``, B likewise. Returns dict
    ``token_ids``, ``segment_ids``, ``padding_mask``: (N, T) int32 tensors.
    """
    pos = tf.range(seq_length, dtype=tf.int64)[None, :]  # (1, T)
    a_start, a_len, b_start, b_len = (tf.cast(v, tf.int64)[:, None] for v in (a_start, a_length, b_start, b_length))
    in_a = (pos >= 1) & (pos <= a_len)  # (N, T)
    in_b = (pos >= a_len + 2) & (pos < a_len + 2 + b_len)
    source = tf.where(in_a, a_start + pos - 1, b_start + pos - a_len - 2)
    tokens = tf.where(in_a | in_b, tf.gather(ids, tf.where(in_a | in_b, source, 0)), vocab.pad_id)
    sep = (pos == a_len + 1) | (pos == a_len + b_len + 2)
    tokens = tf.where(pos == 0, vocab.cls_id, tf.where(sep, vocab.sep_id, tokens))
    real = pos < a_len + b_len + 3
    return {
        "token_ids": tf.cast(tokens, tf.int32),
        "segment_ids": tf.cast((pos >= a_len + 2) & real, tf.int32),
        "padding_mask": tf.cast(real & tf.ones_like(in_a), tf.int32),
    }


def to_task_format(batch, task):
    """Batch dict -> ``(x, y, sample_weight)`` as ``model.fit`` takes it (CONTRACTS.md).

    ``batch`` has ``token_ids``, ``segment_ids``, ``padding_mask``, ``labels``
    and, for MLM tasks, ``mask_positions``, ``mask_ids``, ``mask_weights``.
    For ``"nsp"``/``"sop"`` pass unmasked token ids (see ``unmask``).
    """
    check_task(task)
    x = {
        "token_ids": tf.cast(batch["token_ids"], tf.int32),
        "segment_ids": tf.cast(batch["segment_ids"], tf.int32),
        "padding_mask": tf.cast(batch["padding_mask"], tf.int32),
    }
    labels = tf.reshape(tf.cast(batch["labels"], tf.int32), [-1])  # (B,)
    if task in ("nsp", "sop"):
        return x, labels
    x["mask_positions"] = tf.cast(batch["mask_positions"], tf.int32)
    mask_ids = tf.cast(batch["mask_ids"], tf.int32)
    mask_weights = tf.cast(batch["mask_weights"], tf.float32)
    if task == "mlm":
        return x, mask_ids, mask_weights
    y = {"mlm": mask_ids, "nsp": labels}
    return x, y, {"mlm": mask_weights, "nsp": tf.ones_like(labels, tf.float32)}


def check_task(task):
    if task not in MODEL_TASKS:
        raise DataError(f"Unknown pretraining task {task!r}; use one of {', '.join(MODEL_TASKS)}.")


def unmask(batch):
    """Put the original ids back at the masked positions (for NSP/SOP-only training)."""
    token_ids = tf.cast(batch["token_ids"], tf.int32)
    positions = tf.cast(batch["mask_positions"], tf.int32)  # (B, P)
    real = batch["mask_weights"] > 0
    rows = tf.broadcast_to(tf.range(tf.shape(positions)[0])[:, None], tf.shape(positions))
    # Padded slots point at position 0; write back what is already there.
    updates = tf.where(real, tf.cast(batch["mask_ids"], tf.int32), token_ids[:, :1])
    return dict(batch, token_ids=tf.tensor_scatter_nd_update(token_ids, tf.stack([rows, positions], -1), updates))
