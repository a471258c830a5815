"""Pretraining examples as sharded TFRecords with google-research/bert's features.

Every record is a ``tf.train.Example`` with exactly the features of BERT's
``create_pretraining_data.py``, so shards from either tool load in either:

    input_ids, input_mask, segment_ids      int64 [seq_length]
    masked_lm_positions, masked_lm_ids      int64 [max_predictions]
    masked_lm_weights                       float [max_predictions]
    next_sentence_labels                    int64 [1]

Shards are written to ``<name>.tmp`` and renamed only when every shard is
complete, so an interrupted run never leaves a shard that looks finished.
"""
import glob
import json
import os
import re

import numpy as np
import tensorflow as tf

from kerasllm.data.masking import mask_batch
from kerasllm.data.pretraining_examples import check_task, pack_pairs, plan_dupes, to_task_format, unmask
from kerasllm.data.pretraining_summary import SUMMARY_FILE, PretrainingSummary
from kerasllm.errors import DataError

# Our batch keys -> BERT feature names.
FEATURE_NAMES = {
    "token_ids": "input_ids",
    "padding_mask": "input_mask",
    "segment_ids": "segment_ids",
    "mask_positions": "masked_lm_positions",
    "mask_ids": "masked_lm_ids",
    "mask_weights": "masked_lm_weights",
    "labels": "next_sentence_labels",
}
_SHARD = re.compile(r"-\d{5}-of-\d{5}\.tfrecord$")


def shard_paths(output_dir, num_shards, prefix="pretrain"):
    return [os.path.join(output_dir, f"{prefix}-{i:05d}-of-{num_shards:05d}.tfrecord") for i in range(num_shards)]


def write_pretraining_shards(corpus, vocab, output_dir, config, num_shards=1, batch_size=512):
    """Build masked examples from ``corpus`` and write ``num_shards`` shards.

    Args:
        corpus: a ``TokenizedCorpus``.
        vocab: a ``VocabularyInfo``.
        output_dir: directory for ``pretrain-0000i-of-0000n.tfrecord`` and
            ``pretraining_summary.json``; created if missing.
        config: a ``PretrainingConfig``; same config (seed) => byte-identical shards.

    Returns:
        a ``PretrainingSummary``.
    """
    config.validate()
    if num_shards < 1:
        raise DataError(f"num_shards must be >= 1; received {num_shards}.")
    paths = shard_paths(output_dir, num_shards)
    _refuse_foreign_shards(output_dir, paths)
    os.makedirs(output_dir, exist_ok=True)
    plan = plan_dupes(corpus, config)
    summary = PretrainingSummary(documents=corpus.num_documents, task=config.task,
                                 shards=tuple(os.path.basename(p) for p in paths))
    mask = tf.function(lambda ids, real, seed: mask_batch(
        ids, real, vocab, seed, config.max_predictions, config.masked_lm_prob, config.whole_word_masking),
        reduce_retracing=True)
    writers = [tf.io.TFRecordWriter(p + ".tmp") for p in paths]
    try:
        for chunk, start in enumerate(range(0, len(plan), batch_size)):
            batch = pack_pairs(corpus, plan.take(slice(start, start + batch_size)), config.seq_length, vocab)
            masked = mask(batch["token_ids"], batch["padding_mask"], tf.constant([config.seed, chunk], tf.int64))
            batch.update({k: v.numpy() for k, v in masked.items()})
            summary.add(batch)
            for row in range(len(batch["labels"])):
                writers[(start + row) % num_shards].write(serialize_example(batch, row))
    finally:
        for writer in writers:
            writer.close()
    for path in paths:
        os.replace(path + ".tmp", path)
    _write_json(os.path.join(output_dir, SUMMARY_FILE), {"config": config.to_dict(), **summary.to_dict()})
    return summary


def serialize_example(batch, row):
    """Row ``row`` of a batch dict as a serialized BERT ``tf.train.Example``."""
    feature = {}
    for key, name in FEATURE_NAMES.items():
        values = np.reshape(batch[key][row], [-1])
        if key == "mask_weights":
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values.tolist()))
        else:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)


def load_pretraining_dataset(file_patterns, batch_size, task="mlm+nsp", shuffle=True, shuffle_buffer=10000,
                             seed=None, repeat=False, drop_remainder=False):
    """Batches of ``(x, y, sample_weight)`` from BERT pretraining TFRecords.

    Args:
        file_patterns: a glob, a directory, or a list of them.
        batch_size: rows per batch.
        task: ``"mlm+nsp"``, ``"mlm"``, ``"nsp"``, ``"sop"`` or ``"mlm+sop"``.
            NSP/SOP-only batches get the masked tokens put back.
        shuffle: shuffle files and records (seeded by ``seed``).
        repeat: repeat forever (use with ``steps_per_epoch``).

    Returns:
        a ``tf.data.Dataset`` in the format of ``to_task_format``.
    """
    check_task(task)
    files = _expand(file_patterns)
    seq_length, max_predictions = _feature_lengths(files[0])
    spec = {name: tf.io.FixedLenFeature([seq_length], tf.int64)
            for name in ("input_ids", "input_mask", "segment_ids")}
    spec.update({name: tf.io.FixedLenFeature([max_predictions], tf.int64)
                 for name in ("masked_lm_positions", "masked_lm_ids")})
    spec["masked_lm_weights"] = tf.io.FixedLenFeature([max_predictions], tf.float32)
    spec["next_sentence_labels"] = tf.io.FixedLenFeature([1], tf.int64)

    def parse(serialized):
        features = tf.io.parse_example(serialized, spec)
        batch = {key: features[name] for key, name in FEATURE_NAMES.items()}
        if task in ("nsp", "sop"):
            batch = unmask(batch)
        return to_task_format(batch, task)

    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _expand(file_patterns):
    patterns = [file_patterns] if isinstance(file_patterns, (str, os.PathLike)) else list(file_patterns)
    files = []
    for pattern in map(str, patterns):
        if os.path.isdir(pattern):
            pattern = os.path.join(pattern, "*.tfrecord")
        files.extend(sorted(glob.glob(pattern)))
    if not files:
        raise DataError(f"No TFRecord files match {', '.join(map(str, patterns))}; "
                        f"build them with `kerasllm data pretrain --output DIR`.")
    return files


def _feature_lengths(path):
    """``(seq_length, max_predictions)`` read from the first record of ``path``."""
    try:
        first = next(iter(tf.data.TFRecordDataset(path).take(1)), None)
    except tf.errors.OpError as err:
        raise DataError(f"{path}: not a readable TFRecord file ({err.message.splitlines()[0]}).") from None
    if first is None:
        raise DataError(f"{path}: holds no records; rebuild it with `kerasllm data pretrain`.")
    feature = tf.train.Example.FromString(first.numpy()).features.feature
    missing = [name for name in FEATURE_NAMES.values() if name not in feature]
    if missing:
        raise DataError(f"{path}: not a BERT pretraining TFRecord (missing feature(s) {', '.join(missing)}).")
    return len(feature["input_ids"].int64_list.value), len(feature["masked_lm_ids"].int64_list.value)


def _refuse_foreign_shards(output_dir, paths):
    """Never mix with shards of an earlier run that this run would not overwrite."""
    if not os.path.isdir(output_dir):
        return
    ours = {os.path.basename(p) for p in paths}
    foreign = sorted(f for f in os.listdir(output_dir) if _SHARD.search(f) and f not in ours)
    if foreign:
        raise DataError(f"{output_dir}: already holds {len(foreign)} shard(s) of another run (e.g. {foreign[0]}); "
                        f"use an empty --output directory or delete them.")


def _write_json(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=2)
    os.replace(path + ".tmp", path)
