"""Data-parallel training: 2 CPU replicas and 2 worker processes match 1 replica; kill -9 resume.

Every run here is a real ``kerasllm train-lm`` subprocess on a tiny corpus
(the strategy must be chosen before TensorFlow initialises, so each needs a
fresh process).
"""
import json
import signal
import socket
import subprocess
import time

import pytest

from training_helpers import REPO, command, env, lm_args, metrics, run_cli, write_data

pytestmark = pytest.mark.slow
STEPS = ["--steps", "12"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def one_replica(data, tmp_path_factory):
    """References, 1 replica, global batch 4, made on first use: {tokenizer: RUN_DIR}."""
    made, root = {}, tmp_path_factory.mktemp("runs")

    def get(tokenizer):
        if tokenizer not in made:
            out = root / tokenizer
            result = run_cli(lm_args(data, out, "--batch-size", "4", "--tokenizer", tokenizer, *STEPS))
            assert result.returncode == 0, result.stderr[-2000:]
            made[tokenizer] = out
        return made[tokenizer]
    return get


def test_two_cpu_replicas_match_one(data, tmp_path, one_replica):
    out = tmp_path / "two"
    result = run_cli(lm_args(data, out, "--batch-size", "2", "--replicas", "2", *STEPS))
    assert result.returncode == 0, result.stderr[-2000:]
    two, one = metrics(out), metrics(one_replica("word"))
    assert two["step"] == one["step"] == 12
    print(f"2 replicas: |loss diff| = {abs(two['loss'] - one['loss']):.2e}")
    assert two["loss"] == pytest.approx(one["loss"], abs=1e-4)
    assert two["loss"] < 3.9  # below ln(50): it learned something


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.parametrize("tokenizer", ["word", "wordpiece"])
def test_two_workers_match_one(data, tmp_path, one_replica, tokenizer):
    """Each worker learns the vocabulary from --corpus (no --vocab), the one the single process learned."""
    cluster = {"worker": [f"127.0.0.1:{p}" for p in _free_ports(2)]}
    out = tmp_path / "multi"
    procs = [
        subprocess.Popen(
            command(lm_args(data, out, "--batch-size", "2", "--tokenizer", tokenizer, *STEPS)), cwd=REPO,
            env=env(TF_CONFIG=json.dumps({"cluster": cluster,
                                          "task": {"type": "worker", "index": i}})),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    multi, one = metrics(out), metrics(one_replica(tokenizer))  # written by the chief (worker 0) only
    assert multi["step"] == 12
    print(f"2 workers, {tokenizer}: |loss diff| = {abs(multi['loss'] - one['loss']):.2e}")
    assert (out / "vocab.txt").read_bytes() == (one_replica(tokenizer) / "vocab.txt").read_bytes()
    assert multi["loss"] == pytest.approx(one["loss"], abs=1e-4)


def _wait_for_checkpoint(path, proc, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if path.is_file() and json.loads(path.read_text())["step"] >= 1:
            return json.loads(path.read_text())["step"]
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared before the run ended")


def test_kill_9_then_rerun_resumes_exactly(data, tmp_path):
    """Stateful LSTM (carried state), SGD with epoch decay: 2 epochs, checkpoint every 7 steps."""
    args = ["--checkpoint-every", "7", "--epochs", "2"]
    reference = tmp_path / "reference"
    assert run_cli(lm_args(data, reference, *args)).returncode == 0
    out = tmp_path / "killed"
    proc = subprocess.Popen(command(lm_args(data, out, *args)), cwd=REPO, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = _wait_for_checkpoint(out / "checkpoints" / "state.json", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "metrics.json").exists(), "the run finished before it was killed"
    resumed = run_cli(lm_args(data, out, *args))
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    step = int(resumed.stdout.split("resumed from step ")[1].split()[0])
    assert step >= saved and step % 7 == 0
    done, ref = metrics(out), metrics(reference)
    assert done["step"] == ref["step"] and done["resumed_from_step"] == step
    assert abs(done["loss"] - ref["loss"]) <= 1e-5
    assert abs(done["val_loss"] - ref["val_loss"]) <= 1e-5 if "val_loss" in ref else True
    print(f"resume: step {step}, |loss diff| = {abs(done['loss'] - ref['loss']):.2e}")
