"""pretrain --init (continued pretraining), pretrain --eval (held-out metrics while training),
and evaluate's pseudo-perplexity."""
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.runs import load_run
from soak_helpers import scalars
from tiny_runs import bert_run
from training_helpers import write_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data"))


def pretrain(data, output, *extra, task="mlm+nsp", steps=3):
    args = ["pretrain", "--preset", str(data / "bert.yaml"), "--task", task, "--corpus",
            str(data / "corpus.txt"), "--seq-length", "32", "--batch-size", "4", "--steps",
            str(steps), "--output", str(output), *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def base(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "run"
    result = pretrain(data, out, "--vocab-size", "100")
    assert result.exit_code == 0, result.output[-3000:]
    return out


def weights(run_dir):
    model = load_run(run_dir).model
    return {w.path: np.asarray(w) for w in model.weights}


def test_same_task_continues_the_whole_model(data, base, tmp_path):
    result = pretrain(data, tmp_path / "more", "--init", str(base), "--learning-rate", "1e-20")
    assert result.exit_code == 0, result.output[-3000:]
    assert "continuing the whole mlm+nsp model, heads included" in result.output
    assert (tmp_path / "more" / "vocab.txt").read_text() == (base / "vocab.txt").read_text()
    before, after = weights(base), weights(tmp_path / "more")
    assert before.keys() == after.keys()
    for path, value in before.items():  # learning rate 1e-20: nothing moved, heads included
        np.testing.assert_array_equal(after[path], value, err_msg=path)


def test_other_task_keeps_the_encoder_and_mlm_head(data, base, tmp_path):
    result = pretrain(data, tmp_path / "mlm", "--init", str(base), "--learning-rate", "1e-20",
                      task="mlm")
    assert result.exit_code == 0, result.output[-3000:]
    assert "its encoder and its MLM head" in result.output
    before, after = weights(base), weights(tmp_path / "mlm")
    shared = [p for p in after if p in before]
    assert any("masked_lm_head" in p for p in shared) and any("embeddings" in p for p in shared)
    for path in shared:
        np.testing.assert_array_equal(after[path], before[path], err_msg=path)
    result = pretrain(data, tmp_path / "sop", "--init", str(base), task="sop")
    assert result.exit_code == 0, result.output[-3000:]
    said = next(line for line in result.output.splitlines() if line.startswith("--init"))
    assert said.startswith(f"--init {base} (mlm+nsp): its encoder; new ") and "MLM" not in said
    assert "embeddings" not in said and "transformer_layer" not in said  # the encoder's: kept


def test_an_encoder_only_run_gets_a_new_tied_mlm_head_and_keeps_every_encoder_weight(data, tmp_path):
    """As an import-hf encoder (all-MiniLM-L6-v2) is continued: only the MLM head is new."""
    init = bert_run(tmp_path / "init", "encoder")
    before = [np.asarray(w) for w in init.model.weights]
    result = pretrain(data, tmp_path / "mlm", "--init", str(tmp_path / "init"), "--learning-rate",
                      "1e-20", task="mlm", steps=2)
    assert result.exit_code == 0, result.output[-3000:]
    said = next(line for line in result.output.splitlines() if line.startswith("--init"))
    assert said == (f"--init {tmp_path / 'init'} (encoder): its encoder; new masked_lm_head "
                    f"(the MLM decoder tied to the token embeddings).")
    after = load_run(tmp_path / "mlm").model.encoder.weights
    assert len(after) == len(before)
    for weight, value in zip(after, before):  # lr 1e-20: every encoder weight is the init run's
        np.testing.assert_allclose(np.asarray(weight), value, rtol=1e-6, atol=1e-12, err_msg=weight.path)


def test_a_different_vocab_is_refused(data, base, tmp_path):
    other = tmp_path / "vocab.txt"
    other.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"]) + "\n")
    result = CliRunner().invoke(cli, ["pretrain", "--init", str(base), "--vocab", str(other),
                                      "--corpus", str(data / "corpus.txt"), "--seq-length", "32",
                                      "--steps", "1", "--output", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert "differs from --init" in result.output and "drop --vocab" in result.output
    assert "Traceback" not in result.output


def test_held_out_metrics_while_pretraining_and_in_evaluate(data, base, tmp_path):
    out = tmp_path / "eval"
    result = pretrain(data, out, "--vocab-size", "100", "--eval", str(data / "corpus.txt"),
                      "--eval-every", "2", "--eval-examples", "8", steps=4)
    assert result.exit_code == 0, result.output[-3000:]
    assert "step 2 held-out: masked_lm_accuracy" in result.output
    logged = scalars(out / "logs" / "validation", "heldout_masked_lm_perplexity")
    assert [step for step, _ in logged] == [2, 4]
    loss = scalars(out / "logs" / "validation", "heldout_masked_lm_loss")
    assert all(math.isclose(p, math.exp(l), rel_tol=1e-5) for (_, p), (_, l) in zip(logged, loss))
    assert [s for s, _ in scalars(out / "logs" / "validation", "heldout_nsp_accuracy")] == [2, 4]
    result = CliRunner().invoke(cli, ["evaluate", str(base), "--data", str(data / "corpus.txt"),
                                      "--output", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output[-3000:]
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["masked_lm_perplexity"] == pytest.approx(math.exp(metrics["masked_lm_loss"]))
    assert 0.0 <= metrics["nsp_accuracy"] <= 1.0


def test_mlm_weight_scales_the_masked_lm_loss_and_is_kept(data, base, tmp_path):
    out = tmp_path / "weighted"
    result = pretrain(data, out, "--init", str(base), "--mlm-weight", "0.25",
                      "--learning-rate", "1e-20")
    assert result.exit_code == 0, result.output[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["loss"] == pytest.approx(0.25 * metrics["mlm_loss"] + metrics["nsp_loss"],
                                            rel=1e-4)
    assert load_run(out).model.mlm_weight == 0.25  # saved with the run, read by resume
    # resuming the run with another weight would train another objective: refused, one line
    result = pretrain(data, out, "--init", str(base), "--mlm-weight", "0.5",
                      "--learning-rate", "1e-20")
    assert result.exit_code != 0 and "key 'mlm_weight': 0.25 there, 0.5 now" in result.output
    assert "Traceback" not in result.output and (out / "model.keras").is_file()
    result = pretrain(data, tmp_path / "mlm", "--mlm-weight", "0.25", task="mlm")
    assert result.exit_code != 0 and "--task mlm has no such pair" in result.output
    assert "Traceback" not in result.output


def test_mlm_alone_steps_train_masked_lm_only_and_are_kept(data, base, tmp_path):
    """--mlm-alone-steps 3 over 3 steps: the encoder learns, the pooler and NSP head keep
    --init's weights (up to AdamW's decay, ~1e-6), the NSP loss is still reported."""
    out = tmp_path / "mlm-first"
    result = pretrain(data, out, "--init", str(base), "--mlm-alone-steps", "3",
                      "--warmup-steps", "0", "--learning-rate", "1e-3")
    assert result.exit_code == 0, result.output[-3000:]
    before, after = weights(base), weights(out)
    nsp_side = [p for p in after if p.startswith(("nsp_head", "pooler"))]
    assert nsp_side and any(p.startswith("transformer") for p in after)
    for path in nsp_side:
        np.testing.assert_allclose(after[path], before[path], atol=1e-5, err_msg=path)
    moved = [p for p in after if not p.startswith(("nsp_head", "pooler"))
             and np.abs(after[p] - before[p]).max() > 1e-4]
    assert len(moved) > 10, moved  # masked LM did train the encoder
    assert json.loads((out / "metrics.json").read_text())["nsp_loss"] > 0.1
    assert load_run(out).model.mlm_alone_steps == 3  # saved with the run, read by resume
    result = pretrain(data, tmp_path / "mlm", "--mlm-alone-steps", "2", task="mlm")
    assert result.exit_code != 0 and "--mlm-alone-steps sets how" in result.output
    assert "--task mlm has no such pair" in result.output
