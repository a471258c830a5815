"""snapshot_run: an earlier step checkpoint of a finished run as a run directory of its own."""
import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.training.snapshot import checkpoint_steps, snapshot_run
from training_helpers import write_data


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = write_data(tmp_path_factory.mktemp("data"))
    out = tmp_path_factory.mktemp("pretrain") / "run"
    args = ["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm", "--corpus",
            str(data / "corpus.txt"), "--vocab-size", "100", "--seq-length", "32",
            "--batch-size", "4", "--steps", "6", "--checkpoint-every", "2",
            "--keep-checkpoints", "10", "--learning-rate", "1e-2", "--output", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return data, out


def weights(run_dir):
    from kerasllm.runs import load_run

    return {w.path: np.asarray(w) for w in load_run(run_dir).model.weights}


def test_the_last_checkpoint_is_the_finished_model(run, tmp_path):
    _, out = run
    assert checkpoint_steps(out) == [2, 4, 6]
    final = weights(out)
    snapshot = weights(snapshot_run(out, 6, tmp_path / "at6"))
    assert snapshot.keys() == final.keys()
    for path, value in final.items():  # the checkpoint's order lines up with model.variables
        np.testing.assert_array_equal(snapshot[path], value, err_msg=path)


def test_an_earlier_step_is_a_run_that_evaluates_and_differs(run, tmp_path):
    from kerasllm.evaluation import evaluate_run

    data, out = run
    at2 = snapshot_run(out, 2, tmp_path / "at2")
    assert (at2 / "vocab.txt").read_text() == (out / "vocab.txt").read_text()
    assert (at2 / "config.yaml").is_file() and not (at2 / "checkpoints").exists()
    early, final = weights(at2), weights(out)
    assert any(not np.array_equal(early[p], final[p]) for p in final if "embeddings" in p)
    metrics, _ = evaluate_run(str(at2), [str(data / "corpus.txt")], max_examples=8)
    assert 0.0 <= metrics["masked_lm_accuracy"] <= 1.0 and metrics["masked_lm_loss"] > 0


def test_a_step_not_kept_names_the_kept_ones(run, tmp_path):
    _, out = run
    with pytest.raises(KerasLLMError, match=r"no checkpoint at step 3 \(kept: 2, 4, 6\)"):
        snapshot_run(out, 3, tmp_path / "at3")
