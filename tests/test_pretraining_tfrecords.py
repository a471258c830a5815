"""BERT-feature TFRecord shards: determinism, exact features, reader, CLI."""
import glob
import os

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.data.pretraining_examples import PretrainingConfig, pack_pairs, plan_dupes
from kerasllm.data.tfrecords import load_pretraining_dataset, write_pretraining_shards
from kerasllm.errors import DataError
from pretraining_helpers import random_corpus

SEQ, PRED = 24, 4
CONFIG = PretrainingConfig(seq_length=SEQ, max_predictions=PRED, dupe_factor=2, seed=5)


def _write(path, config=CONFIG, shards=2):
    corpus, vocab = random_corpus()
    return write_pretraining_shards(corpus, vocab, str(path), config, num_shards=shards)


def _bytes(directory):
    return [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(directory, "*.tfrecord")))]


def test_same_seed_gives_byte_identical_shards_and_other_seed_differs(tmp_path):
    _write(tmp_path / "a")
    _write(tmp_path / "b")
    _write(tmp_path / "c", PretrainingConfig(seq_length=SEQ, max_predictions=PRED, dupe_factor=2, seed=6))
    first = _bytes(tmp_path / "a")
    assert len(first) == 2 and first == _bytes(tmp_path / "b") and first != _bytes(tmp_path / "c")
    assert not glob.glob(str(tmp_path / "a" / "*.tmp"))  # temporary files were renamed


def test_records_have_exactly_the_bert_features(tmp_path):
    summary = _write(tmp_path)
    records = [r.numpy() for p in sorted(glob.glob(str(tmp_path / "*.tfrecord"))) for r in tf.data.TFRecordDataset(p)]
    assert len(records) == summary.sequences
    feature = tf.train.Example.FromString(records[0]).features.feature
    expected = {"input_ids": SEQ, "input_mask": SEQ, "segment_ids": SEQ, "masked_lm_positions": PRED,
                "masked_lm_ids": PRED, "next_sentence_labels": 1}
    assert set(feature) == set(expected) | {"masked_lm_weights"}
    for name, length in expected.items():
        assert feature[name].WhichOneof("kind") == "int64_list" and len(feature[name].int64_list.value) == length
    assert feature["masked_lm_weights"].WhichOneof("kind") == "float_list"
    assert len(feature["masked_lm_weights"].float_list.value) == PRED


def test_reader_round_trip_in_every_task_format(tmp_path):
    _write(tmp_path, shards=1)
    x, y, weights = next(iter(load_pretraining_dataset(str(tmp_path), 8, task="mlm+nsp", shuffle=False)))
    assert sorted(x) == ["mask_positions", "padding_mask", "segment_ids", "token_ids"]
    assert x["token_ids"].shape == (8, SEQ) and x["token_ids"].dtype == tf.int32
    assert x["mask_positions"].shape == (8, PRED) and y["mlm"].shape == (8, PRED) and y["nsp"].shape == (8,)
    assert weights["mlm"].dtype == tf.float32 and np.array_equal(weights["nsp"].numpy(), np.ones(8))
    x_mlm, ids, mlm_weights = next(iter(load_pretraining_dataset(str(tmp_path), 8, task="mlm", shuffle=False)))
    assert np.array_equal(ids.numpy(), y["mlm"].numpy()) and np.array_equal(mlm_weights, weights["mlm"])
    # NSP-only batches get the original tokens back: exactly the unmasked packed rows.
    x_nsp, labels = next(iter(load_pretraining_dataset(str(tmp_path), 8, task="nsp", shuffle=False)))
    corpus, vocab = random_corpus()
    rows = pack_pairs(corpus, plan_dupes(corpus, CONFIG).take(slice(0, 8)), SEQ, vocab)
    assert np.array_equal(x_nsp["token_ids"].numpy(), rows["token_ids"])
    assert np.array_equal(labels.numpy(), rows["labels"]) and np.array_equal(y["nsp"].numpy(), rows["labels"])
    assert not np.array_equal(x["token_ids"].numpy(), rows["token_ids"])  # MLM batches are masked


def test_reader_loads_records_written_by_other_tools(tmp_path):
    """A record built field by field, as google-research/bert's script writes it."""
    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=values))

    features = {"input_ids": ints([101, 7, 103, 102, 9, 102, 0, 0]), "input_mask": ints([1] * 6 + [0] * 2),
                "segment_ids": ints([0, 0, 0, 0, 1, 1, 0, 0]), "masked_lm_positions": ints([2, 0]),
                "masked_lm_ids": ints([8, 0]), "next_sentence_labels": ints([1]),
                "masked_lm_weights": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0, 0.0]))}
    with tf.io.TFRecordWriter(str(tmp_path / "bert.tfrecord")) as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    x, y, _ = next(iter(load_pretraining_dataset(str(tmp_path / "*.tfrecord"), 1, shuffle=False)))
    assert x["token_ids"].numpy().tolist() == [[101, 7, 103, 102, 9, 102, 0, 0]]
    assert y["mlm"].numpy().tolist() == [[8, 0]] and y["nsp"].numpy().tolist() == [1]
    x, _ = next(iter(load_pretraining_dataset(str(tmp_path / "*.tfrecord"), 1, task="sop", shuffle=False)))
    assert x["token_ids"].numpy().tolist() == [[101, 7, 8, 102, 9, 102, 0, 0]]


def test_reader_and_writer_errors(tmp_path):
    with pytest.raises(DataError, match="No TFRecord files match"):
        load_pretraining_dataset(str(tmp_path / "none-*.tfrecord"), 2)
    (tmp_path / "x.tfrecord").write_bytes(b"not a record")
    with pytest.raises(DataError, match="x.tfrecord: not a readable TFRecord"):
        load_pretraining_dataset(str(tmp_path), 2)
    with pytest.raises(DataError, match="Unknown pretraining task 'mlm\\+foo'"):
        load_pretraining_dataset(str(tmp_path), 2, task="mlm+foo")
    _write(tmp_path / "out", shards=2)
    with pytest.raises(DataError, match="already holds 2 shard"):  # would mix two runs
        _write(tmp_path / "out", shards=3)


def _tiny_corpus(directory):
    words = "the cat sat on a mat dog ran home big red tree river walk".split()
    rng = np.random.default_rng(0)
    docs = ["\n".join(" ".join(rng.choice(words, rng.integers(4, 10))) + ("ing" if rng.random() < 0.5 else "") + " ."
                      for _ in range(rng.integers(3, 8))) for _ in range(12)]
    (directory / "corpus").mkdir()
    (directory / "corpus" / "a.txt").write_text("\n\n".join(docs[:7]) + "\n")
    (directory / "corpus" / "b.txt").write_text("\n\n".join(docs[7:]) + "\n")
    (directory / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "##ing"] + words))


def test_cli_end_to_end_and_bad_input(tmp_path):
    _tiny_corpus(tmp_path)
    args = ["data", "pretrain", "--corpus", str(tmp_path / "corpus" / "*.txt"), "--vocab", str(tmp_path / "vocab.txt"),
            "--output", str(tmp_path / "out"), "--seq-length", "32", "--max-predictions", "5",
            "--dupe-factor", "2", "--shards", "2", "--whole-word-masking", "--task", "sop"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "corpus: 2 files, 12 documents" in result.output and "SOP swapped" in result.output
    sequences = int(result.output.split("sequences")[1].split()[0].replace(",", ""))
    dataset = load_pretraining_dataset(str(tmp_path / "out"), 4, task="sop", shuffle=False)
    assert sum(int(x["token_ids"].shape[0]) for x, _ in dataset) == sequences > 12
    assert (tmp_path / "out" / "pretraining_summary.json").exists()

    bad = {"--max-predictions": ("0", "--max-predictions must be between 1 and seq_length; received 0"),
           "--vocab": (str(tmp_path / "missing.txt"), "missing.txt"),
           "--corpus": (str(tmp_path / "no*.txt"), "matches no file")}
    for option, (value, message) in bad.items():
        changed = args[: args.index(option) + 1] + [value] + args[args.index(option) + 2 :]
        result = CliRunner().invoke(cli, changed)
        assert result.exit_code == 1 and result.output.startswith("Error: ") and result.output.count("\n") == 1
        assert message in result.output


def test_interrupted_run_leaves_no_shard_that_looks_complete(tmp_path, monkeypatch):
    import kerasllm.data.tfrecords as tfrecords

    _write(tmp_path / "out", shards=2)
    before = _bytes(tmp_path / "out")
    calls, serialize = [], tfrecords.serialize_example

    def serialize_then_stop(batch, row):  # Ctrl-C after 20 records
        calls.append(row)
        if len(calls) > 20:
            raise KeyboardInterrupt
        return serialize(batch, row)

    monkeypatch.setattr(tfrecords, "serialize_example", serialize_then_stop)
    other_seed = PretrainingConfig(seq_length=SEQ, max_predictions=PRED, dupe_factor=2, seed=9)
    for directory in ("out", "fresh"):
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            _write(tmp_path / directory, other_seed)
    assert _bytes(tmp_path / "out") == before  # the earlier complete shards are untouched
    assert _bytes(tmp_path / "fresh") == [] and glob.glob(str(tmp_path / "fresh" / "*.tmp"))
    with pytest.raises(DataError, match="No TFRecord files match"):  # half-written .tmp files are never read
        load_pretraining_dataset(str(tmp_path / "fresh"), 2)
