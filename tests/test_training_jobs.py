"""kerasllm pretrain / finetune / train-lm end to end on tiny data (in-process via CliRunner)."""
import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from kerasllm.cli.main import cli
from training_helpers import REPO, lm_args, write_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data"))


def invoke(args):
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result


def test_pretrain_then_finetune_from_it(data, tmp_path):
    from kerasllm.runs import load_run

    pre = tmp_path / "pre"
    result = invoke(["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm+nsp",
                     "--corpus", str(data / "corpus.txt"), "--vocab-size", "100",
                     "--seq-length", "32", "--batch-size", "4", "--steps", "3",
                     "--output", str(pre)])
    assert result.exit_code == 0, result.output[-3000:]
    assert "done: step 3" in result.output
    for name in ("config.yaml", "vocab.txt", "model.keras", "metrics.json", "checkpoints", "logs"):
        assert (pre / name).exists(), name
    config = yaml.safe_load((pre / "config.yaml").read_text())
    vocab = (pre / "vocab.txt").read_text().splitlines()
    assert (config["job"], config["task"], config["family"]) == ("pretrain", "mlm+nsp", "bert")
    assert config["model"]["vocabulary_size"] == len(vocab) and config["seq_length"] == 32
    metrics = json.loads((pre / "metrics.json").read_text())
    assert metrics["step"] == 3 and math.isfinite(metrics["mlm_loss"])
    assert type(load_run(pre).model).__name__ == "BertPretrainer"

    fine = tmp_path / "fine"
    result = invoke(["finetune", "--init", str(pre), "--train", str(data / "train.csv"),
                     "--eval", str(data / "eval.csv"), "--seq-length", "16", "--batch-size", "8",
                     "--epochs", "3", "--learning-rate", "3e-3", "--output", str(fine)])
    assert result.exit_code == 0, result.output[-3000:]
    run = load_run(fine)
    assert run.labels == ["neg", "pos"] and run.config["task"] == "classify"
    assert (fine / "vocab.txt").read_text() == (pre / "vocab.txt").read_text()
    history = json.loads((fine / "metrics.json").read_text())
    assert history["step"] == 3 * (48 // 8) and 0.0 <= history["val_accuracy"] <= 1.0
    # The classifier's encoder starts from the pretrained one: same embedding table shape.
    assert run.model.encoder.embeddings.token_embedding.embeddings.shape[0] == len(vocab)


def test_pretrain_from_tfrecord_examples(data, tmp_path):
    vocab = tmp_path / "vocab.txt"
    from kerasllm.data import learn_vocabulary, write_vocabulary

    write_vocabulary(learn_vocabulary((data / "corpus.txt").read_text().split("\n"), 80), vocab)
    built = invoke(["data", "pretrain", "--corpus", str(data / "corpus.txt"), "--vocab", str(vocab),
                    "--output", str(tmp_path / "examples"), "--seq-length", "32",
                    "--dupe-factor", "1"])
    assert built.exit_code == 0, built.output[-2000:]
    out = tmp_path / "run"
    result = invoke(["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm",
                     "--examples", str(tmp_path / "examples"), "--vocab", str(vocab),
                     "--seq-length", "32", "--batch-size", "4", "--steps", "2",
                     "--output", str(out)])
    assert result.exit_code == 0, result.output[-3000:]
    assert json.loads((out / "metrics.json").read_text())["step"] == 2
    wrong = invoke(["pretrain", "--preset", str(data / "bert.yaml"), "--task", "mlm",
                    "--examples", str(tmp_path / "examples"), "--vocab", str(vocab),
                    "--seq-length", "16", "--output", str(tmp_path / "other")])
    assert wrong.exit_code == 1 and "pass --seq-length 32" in wrong.output


def test_finetune_from_scratch_learns_vocab(data, tmp_path):
    from kerasllm.runs import load_run

    out = tmp_path / "scratch"
    result = invoke(["finetune", "--init", "none", "--preset", str(data / "bert.yaml"),
                     "--vocab-size", "60", "--train", str(data / "train.csv"),
                     "--seq-length", "16", "--batch-size", "8", "--steps", "2",
                     "--classifier-pooling", "mean", "--output", str(out)])
    assert result.exit_code == 0, result.output[-3000:]
    vocab = (out / "vocab.txt").read_text().splitlines()
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] and len(vocab) <= 60
    assert (out / "labels.txt").read_text().split() == ["neg", "pos"]
    assert load_run(out).model.pooling == "mean"
    assert yaml.safe_load((out / "config.yaml").read_text())["classifier_pooling"] == "mean"


def _tags(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"tensors": 0})
    acc.Reload()
    return set(acc.Tags()["tensors"]) | set(acc.Tags()["scalars"])


@pytest.fixture(scope="module")
def lm_run(data, tmp_path_factory):
    """train-lm from a --config file, with one flag overriding the file."""
    root = tmp_path_factory.mktemp("lm")
    config = root / "lm.yaml"
    config.write_text(f"learning-rate: 0.5\nepochs: 2\nbatch_size: 4\neval: {data / 'corpus.txt'}\n"
                      "checkpoint_every: 5\n")
    args = [*lm_args(data, root / "run", "--config", str(config), "--learning-rate", "0.7")]
    result = invoke(args)
    assert result.exit_code == 0, result.output[-3000:]
    return root / "run", args, result.output


def test_train_lm_config_file_with_flag_override(lm_run):
    out, _, output = lm_run
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["learning_rate"] == 0.7       # the flag wins
    assert resolved["epochs"] == 2 and resolved["checkpoint_every"] == 5  # from the file
    assert resolved["optimizer"] == "sgd" and resolved["clipnorm"] == 5.0  # from the preset recipe
    assert resolved["tokenizer"]["type"] == "word"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_perplexity"] == pytest.approx(math.exp(metrics["val_loss"]), rel=1e-6)
    assert metrics["val_perplexity"] < 50  # better than uniform over the 50-word vocabulary
    assert "eval perplexity" in output
    from kerasllm.runs import load_run

    model = load_run(out).model  # saved stateless, for generate / evaluate / export
    assert model.stateful is False and model.generate(np.array([[2, 3]]), 4, seed=1).shape == (1, 6)


def test_tensorboard_event_files_hold_the_tags(lm_run):
    out = lm_run[0]
    train_tags = _tags(out / "logs" / "train")
    assert {"epoch_loss", "epoch_perplexity", "learning_rate", "steps_per_second",
            "tokens_per_second", "batch_loss"} <= train_tags
    assert {"epoch_loss", "epoch_perplexity"} <= _tags(out / "logs" / "validation")
    assert "_hparams_/session_start_info" in _tags(out / "logs")


def test_rerun_resumes_and_other_config_is_refused(lm_run):
    out, args, _ = lm_run
    metrics = json.loads((out / "metrics.json").read_text())
    step = metrics["step"]
    # Same command again: nothing left to train; not redone, not refused.
    again = invoke(args)
    assert again.exit_code == 0 and f"resumed from step {step}" in again.output
    assert "already finished" in again.output
    assert json.loads((out / "metrics.json").read_text()) == metrics
    # A different config on the same RUN_DIR is refused in one line, files untouched.
    before = (out / "config.yaml").read_text()
    refused = invoke([a if a != "0.7" else "0.9" for a in args])
    assert refused.exit_code == 1
    assert "different config" in refused.output and "learning_rate" in refused.output
    assert refused.output.count("\n") == 1 and "Traceback" not in refused.output
    assert (out / "config.yaml").read_text() == before


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_tensorboard_serves_the_run_over_http(lm_run):
    binary = Path(sys.executable).with_name("tensorboard")
    port = _free_port()
    proc = subprocess.Popen([str(binary), "--logdir", str(lm_run[0] / "logs"), "--host",
                             "127.0.0.1", "--port", str(port), "--load_fast", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body, deadline = "", time.time() + 90
        while time.time() < deadline and "tokens_per_second" not in body:
            try:
                url = f"http://127.0.0.1:{port}/data/plugin/scalars/tags"
                body = urllib.request.urlopen(url, timeout=5).read().decode()
            except OSError:
                time.sleep(1)
        tags = json.loads(body)
        assert {"learning_rate", "tokens_per_second", "epoch_loss"} <= set(tags["train"])
        assert "epoch_loss" in tags["validation"]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_unknown_config_key_is_one_line(data, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("learning_rate: 0.1\nbatchsize: 4\n")
    result = invoke([*lm_args(data, tmp_path / "x", "--config", str(config))])
    assert result.exit_code != 0
    assert f"{config}: key 'batchsize': unknown option" in result.output
    assert "Traceback" not in result.output


def test_nan_loss_stops_and_keeps_last_good_checkpoint(data, tmp_path):
    # Decoupled weight decay with lr x decay >> 2 multiplies every kernel by about -1e8
    # per step: the weights overflow to inf within a few steps and the loss turns NaN.
    out = tmp_path / "nan"
    result = invoke(["finetune", "--init", "none", "--preset", str(data / "bert.yaml"),
                     "--vocab-size", "60", "--train", str(data / "train.csv"),
                     "--seq-length", "16", "--batch-size", "8", "--steps", "12",
                     "--learning-rate", "1e10", "--weight-decay", "1", "--warmup-steps", "0",
                     "--checkpoint-every", "1", "--output", str(out)])
    assert result.exit_code == 1, result.output[-2000:]
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: loss became NaN at step")
    nan_step = int(line.split("at step ")[1].split(";")[0])
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert 1 <= state["step"] < nan_step <= 12
    assert (out / "checkpoints" / state["file"]).is_file()
    assert not (out / "model.keras").exists()


@pytest.mark.parametrize("script", ["pretrain", "finetune", "train_lm"])
def test_scripts_are_the_same_commands(script):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / f"{script}.py"), "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "--checkpoint-every" in out.stdout and "--config" in out.stdout
    default = "auto, see the note above" if script == "finetune" else "float32"
    assert f"Dtype policy. [default: {default}]" in " ".join(out.stdout.split())


@pytest.mark.parametrize("precision, task", [("mixed_bfloat16", "sop"), ("mixed_float16", "mlm")])
def test_pretrain_with_mixed_precision_and_xla(data, tmp_path, precision, task):
    import keras

    from kerasllm.runs import load_run

    out = tmp_path / "run"
    result = invoke(["pretrain", "--preset", str(data / "bert.yaml"), "--task", task,
                     "--corpus", str(data / "corpus.txt"), "--vocab-size", "100",
                     "--seq-length", "32", "--batch-size", "4", "--steps", "4",
                     "--precision", precision, "--jit", "--output", str(out)])
    assert result.exit_code == 0, result.output[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["step"] == 4 and math.isfinite(metrics["loss"])
    assert keras.mixed_precision.global_policy().name == "float32"  # the job restored it
    run = load_run(out)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert (config["precision"], config["jit"], config["task"]) == (precision, True, task)
    assert config["deterministic"] is False  # Keras runs XLA only without op determinism
    weights = [w for w in run.model.weights if "embeddings" in w.path]
    assert weights and all(w.dtype == "float32" for w in weights)  # variables stay float32


def test_jit_with_explicit_determinism_is_refused(data, tmp_path):
    result = CliRunner().invoke(cli, ["pretrain", "--preset", str(data / "bert.yaml"),
                                      "--corpus", str(data / "corpus.txt"), "--jit",
                                      "--deterministic", "--output", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "--jit and --deterministic cannot be combined" in result.output
    assert not (tmp_path / "run").exists()
