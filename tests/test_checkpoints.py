"""HF checkpoint import/export without PyTorch: the safetensors path, config and tokenizer files."""
import json

import numpy as np
import pytest

from kerasllm.checkpoints import export_checkpoint, import_checkpoint
from kerasllm.checkpoints.weight_map import weight_entries
from kerasllm.errors import DataError
from kerasllm.runs import load_run
from tiny_runs import BERT_VOCAB, bert_run

INPUTS = {"token_ids": np.array([[2, 6, 7, 8, 3, 0], [2, 9, 10, 3, 0, 0]], "int32"),
          "segment_ids": np.array([[0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0]], "int32"),
          "padding_mask": np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]], "int32")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A kerasllm classifier run and its export-hf directory."""
    root = tmp_path_factory.mktemp("ckpt")
    run = bert_run(root / "run", "classify", ["neg", "pos", "mixed"])
    assert export_checkpoint(root / "run", root / "hf") == "BertForSequenceClassification"
    return run, root / "hf"


@pytest.mark.parametrize("task", ["mlm+nsp", "classify", "encoder"])
def test_weight_table_covers_every_variable(tmp_path, task):
    run = bert_run(tmp_path / "run", task, ["a", "b"] if task == "classify" else None)
    mapped = [id(e.variable) for e in weight_entries(run.model, task)]
    assert len(mapped) == len(set(mapped))
    assert sorted(mapped) == sorted(id(v) for v in run.model.weights)


def test_export_then_import_reproduces_the_run(exported, tmp_path):
    run, hf = exported
    config = import_checkpoint(hf, tmp_path / "again")
    again = load_run(tmp_path / "again")
    assert config["task"] == "classify" and again.labels == ["neg", "pos", "mixed"]
    assert again.config["tokenizer"] == run.config["tokenizer"]
    assert again.config["model"] == run.config["model"] | {"dropout": 0.0}
    np.testing.assert_array_equal(again.model(INPUTS), run.model(INPUTS))


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_unsupported_activation_is_a_one_line_error(exported, tmp_path):
    hf = _copy(exported[1], tmp_path / "hf")
    config = json.loads((hf / "config.json").read_text())
    (hf / "config.json").write_text(json.dumps(config | {"hidden_act": "silu"}))
    with pytest.raises(DataError, match=r"config.json: key 'hidden_act': received 'silu'"):
        import_checkpoint(hf, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_vocab_size_mismatch_is_reported(exported, tmp_path):
    hf = _copy(exported[1], tmp_path / "hf")
    (hf / "vocab.txt").write_text("".join(f"{t}\n" for t in BERT_VOCAB[:-2]))
    with pytest.raises(DataError, match="vocabulary has 30 tokens but config.json vocab_size is 32"):
        import_checkpoint(hf, tmp_path / "run")


def test_tokenizer_json_alone_gives_vocab_and_casing(exported, tmp_path):
    """transformers 5 writes tokenizer.json and no vocab.txt."""
    hf = _copy(exported[1], tmp_path / "hf")
    (hf / "vocab.txt").unlink()
    (hf / "tokenizer_config.json").unlink()
    (hf / "tokenizer.json").write_text(json.dumps({
        "normalizer": {"type": "BertNormalizer", "lowercase": False, "strip_accents": None},
        "model": {"type": "WordPiece", "vocab": {t: i for i, t in enumerate(BERT_VOCAB)}}}))
    config = import_checkpoint(hf, tmp_path / "run")
    assert config["tokenizer"] == {"type": "wordpiece", "lowercase": False,
                                   "strip_accents": False}
    assert (tmp_path / "run" / "vocab.txt").read_text().splitlines() == BERT_VOCAB


def test_missing_weights_file_is_a_clear_error(exported, tmp_path):
    hf = _copy(exported[1], tmp_path / "hf")
    (hf / "model.safetensors").unlink()
    with pytest.raises(DataError, match="no model.safetensors, model.safetensors.index.json "
                                        "or pytorch_model.bin found"):
        import_checkpoint(hf, tmp_path / "run")


def test_seq_length_beyond_the_position_table_is_refused(exported, tmp_path):
    with pytest.raises(DataError, match="--seq-length 64: must be between 8 and the "
                                        "checkpoint's max_position_embeddings \\(32\\)"):
        import_checkpoint(exported[1], tmp_path / "run", seq_length=64)
    assert import_checkpoint(exported[1], tmp_path / "run", seq_length=16)["seq_length"] == 16
