"""The task registry (kerasllm.tasks), and mlm+sop through every stage it lists."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm import tasks
from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from training_helpers import write_data


def test_every_task_resolves_its_model_evaluator_and_predictor():
    from kerasllm import models

    for task in tasks.TASKS.values():
        assert hasattr(models, task.model), task.name
        for field in ("trainer", "reader", "evaluator", "predictor", "formatter"):
            assert getattr(task, field) is None or callable(task.resolve(field)), task.name
        assert task.hf_export_as is None or tasks.get(task.hf_export_as).hf_architecture


def test_checkpoint_heads_and_architecture_pick_the_task():
    assert tasks.for_checkpoint(None, {"cls.predictions", "cls.seq_relationship"}).name == "mlm+nsp"
    assert tasks.for_checkpoint("BertForMaskedLM", {"cls.predictions"}).name == "mlm"
    assert tasks.for_checkpoint(None, {"classifier"}).name == "classify"
    assert tasks.for_checkpoint("BertForTokenClassification", {"classifier"}).name == "ner"
    assert tasks.for_checkpoint(None, {"qa_outputs"}).name == "qa"
    assert tasks.for_checkpoint("BertForSequenceClassification", {"classifier"}).name == "classify"
    assert tasks.for_checkpoint(None, set()).name == "encoder"
    assert tasks.for_checkpoint(None, {"classifier", "cls.predictions"}) is None


def test_unknown_task_is_one_line():
    with pytest.raises(KerasLLMError, match="'ner2': unknown task; known: mlm, nsp"):
        tasks.get("ner2")


def test_special_tokens_are_defined_once():
    from kerasllm.checkpoints import hf_tokenizer
    from kerasllm.data import masking, special_tokens, tokenizer
    from kerasllm.export import serving_tokenizer

    for module in (hf_tokenizer, masking, tokenizer, serving_tokenizer):
        assert module.SPECIAL_TOKENS is special_tokens.SPECIAL_TOKENS


def test_mlm_sop_trains_evaluates_fills_masks_and_exports(tmp_path):
    """mlm+sop (ALBERT's objectives on a BERT) works in every stage, not only the data."""
    pytest.importorskip("transformers")
    import torch
    import transformers

    from kerasllm.checkpoints.export_hf import export_checkpoint
    from kerasllm.export.exporter import build_serving
    from kerasllm.inference import fill_mask
    from kerasllm.runs import load_run

    (tmp_path / "data").mkdir()
    data = write_data(tmp_path / "data")
    run_dir = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(cli, ["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm+sop",
                                 "--corpus", str(data / "corpus.txt"), "--vocab-size", "100",
                                 "--seq-length", "32", "--batch-size", "4", "--steps", "3",
                                 "--output", str(run_dir)], catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    assert math.isfinite(json.loads((run_dir / "metrics.json").read_text())["mlm_loss"])

    result = runner.invoke(cli, ["evaluate", str(run_dir), "--data", str(data / "corpus.txt")],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    metrics = json.loads((run_dir / "eval_metrics.json").read_text())
    assert 0 <= metrics["sop_accuracy"] <= 1 and 0 <= metrics["masked_lm_accuracy"] <= 1
    assert "nsp_accuracy" not in metrics

    run = load_run(run_dir)
    assert len(fill_mask(run, "the [MASK] sat on the mat .", top_k=3)[0]) == 3
    serving = build_serving(run)
    out = serving.from_text(serving.encode(np.array(["the [MASK] sat ."])))
    assert out["top_tokens"].shape == (1, 1, 5)

    hf_dir = tmp_path / "hf"
    assert export_checkpoint(run_dir, hf_dir) == "BertForMaskedLM"
    hf = transformers.BertForMaskedLM.from_pretrained(str(hf_dir)).eval()
    ids = np.array([[2, 7, 4, 9, 3]], "int32")
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids),
              "mask_positions": np.array([[2]], "int32")}
    ours = np.asarray(run.model(inputs, training=False)["mlm"])[0, 0]
    with torch.no_grad():
        theirs = hf(input_ids=torch.tensor(ids, dtype=torch.long)).logits.numpy()[0, 2]
    assert np.abs(ours - theirs).max() < 1e-4
