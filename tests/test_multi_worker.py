"""Several worker processes on localhost through ``kerasllm launch``: who writes what,
a worker killed with -9, SIGTERM to the whole job, resume parity.

Every run is a real ``kerasllm launch --workers N -- train-lm`` subprocess on
the tiny corpus; the workers share RUN_DIR as hosts share an NFS mount.
"""
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from soak_helpers import state_step
from training_helpers import REPO, command, env, lm_args, run_cli, write_data

pytestmark = pytest.mark.slow
# A stateful LM: each worker carries the LSTM state of its own rows across steps.
ARGS = ["--batch-size", "2", "--steps", "240", "--checkpoint-every", "10"]
RUN_FILES = {"checkpoints", "config.yaml", "history.jsonl", "logs", "metrics.json", "model.keras",
             "vocab.txt"}


def pretrain_args(out, steps, vocab):
    """MLM pretraining on the tiny corpus; ``vocab=None`` learns a 100-token vocabulary instead."""
    vocab_args = ["--vocab", str(vocab)] if vocab else ["--vocab-size", "100"]
    return ["pretrain", "--preset", str(DATA / "bert.yaml"), "--task", "mlm", "--corpus",
            str(DATA / "corpus.txt"), *vocab_args, "--seq-length", "32", "--batch-size", "2",
            "--steps", str(steps), "--checkpoint-every", "10", "--output", str(out)]


def job_args(job, out):
    if job == "train-lm":
        return lm_args(DATA, out, *ARGS)
    return pretrain_args(out, 120, DATA / "vocab.txt")


def launch(workers, out, job="train-lm"):
    return command(["launch", "--workers", str(workers), "--", *job_args(job, out)])


def run_launch(workers, out, job="train-lm"):
    return subprocess.run(launch(workers, out, job), cwd=REPO, env=env(), capture_output=True,
                          text=True, timeout=600)


def max_relative_difference(run_a, run_b):
    """Largest |d| / max(1, |value|) between the runs' final checkpoints, over every variable."""
    files = [np.load(Path(run) / "checkpoints" / json.loads((Path(run) / "checkpoints" / "state.json")
                                                             .read_text())["file"]) for run in (run_a, run_b)]
    a, b = files
    assert sorted(a.files) == sorted(b.files)
    return max(float(np.max(np.abs(a[k] - b[k].astype(np.float64)) / np.maximum(1.0, np.abs(a[k])), initial=0.0))
               for k in a.files)


def scratch_dirs(run_dir):
    digest = hashlib.sha1(str(Path(run_dir).resolve()).encode()).hexdigest()[:12]
    return list(Path(tempfile.gettempdir()).glob(f"kerasllm-worker-{digest}-*"))


def assert_one_copy(out, workers, launches=1):
    assert {p.name for p in out.iterdir()} == RUN_FILES
    rows = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1], "history.jsonl written by more than one worker"
    for logs in (out / "logs", out / "logs" / "train"):  # one event file per launch: the chief's
        assert len(list(logs.glob("events.out.tfevents.*"))) == launches, f"{logs}: other writers"
    assert not list((out / "checkpoints").glob(".*")), "temporary checkpoint files left behind"
    assert not scratch_dirs(out), f"non-chief scratch dirs left after {workers} workers"


@pytest.fixture(scope="module", autouse=True)
def data(tmp_path_factory):
    """Tiny data and the 100-token vocab.txt learned from it, here, for pretrain."""
    from kerasllm.data import learn_vocabulary, write_vocabulary

    global DATA
    DATA = write_data(tmp_path_factory.mktemp("data"))
    write_vocabulary(learn_vocabulary((DATA / "corpus.txt").read_text().splitlines(), 100), DATA / "vocab.txt")
    return DATA


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Uninterrupted 2-worker runs, made on first use: {job: (RUN_DIR, stdout)}."""
    made, root = {}, tmp_path_factory.mktemp("runs")

    def get(job):
        if job not in made:
            out = root / job
            result = run_launch(2, out, job)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
            made[job] = out, result.stdout
        return made[job]
    return get


def test_two_workers_write_run_dir_once(references):
    out, stdout = references("train-lm")
    assert "[worker 0] done: step 240" in stdout and "[worker 1] done: step 240" in stdout
    assert_one_copy(out, 2)


def test_three_workers_write_run_dir_once(tmp_path):
    out = tmp_path / "three"
    result = run_launch(3, out)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert json.loads((out / "metrics.json").read_text())["step"] == 240
    assert_one_copy(out, 3)


def _start(out, job):
    return subprocess.Popen(launch(2, out, job), cwd=REPO, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_past(out, proc, step):
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if state_step(out) >= step:
            return
        time.sleep(0.02)
    raise AssertionError(f"no checkpoint at step {step} before the run ended:\n{proc.stdout.read()[-3000:]}")


def _workers(launcher):
    found = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in found.split())


@pytest.mark.parametrize("job", ["train-lm", "pretrain"])
def test_kill_9_a_worker_then_sigterm_then_resume_matches(references, tmp_path, job):
    """kill -9 worker 1: worker 0 stops with one line; re-launch; SIGTERM the job; re-launch to the end."""
    out = tmp_path / "interrupted"
    proc = _start(out, job)
    _wait_past(out, proc, 20)
    os.kill(_workers(proc)[-1], signal.SIGKILL)
    killed = time.time()
    output = proc.communicate(timeout=300)[0]
    stopped_after = time.time() - killed
    assert proc.returncode == 137, output[-3000:]
    lost = [line for line in output.splitlines() if line.startswith("[worker 0] Error: another worker")]
    assert len(lost) == 1 and "resume from step" in lost[0], output[-3000:]
    assert "Traceback" not in output
    assert stopped_after < 60
    assert not (out / "metrics.json").exists()

    proc = _start(out, job)
    _wait_past(out, proc, state_step(out) + 20)
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=300)[0]
    assert proc.returncode == 143, output[-3000:]
    step = state_step(out)
    for rank in (0, 1):  # both stopped at the same step, the one the chief saved
        assert f"[worker {rank}] interrupted at step {step}; run the same command" in output, output[-3000:]
    assert not scratch_dirs(out)

    final = run_launch(2, out, job)
    assert final.returncode == 0, final.stdout[-3000:]
    assert f"resumed from step {step}" in final.stdout
    diff = max_relative_difference(references(job)[0], out)
    print(f"\n{job}: worker killed -> other stopped in {stopped_after:.1f} s; SIGTERM at step {step}; "
          f"max relative |d| vs uninterrupted 2 workers {diff:.2e}")
    # Weights, carried LSTM state and optimizer state come out equal (|dW| = 0 when measured);
    # the epoch's running loss total (a float32 sum, ~11 for pretrain, ~700 for train-lm) may
    # differ in its last bits: the chief's total is restored into the replicas' partial sums,
    # which then add up in another order. Hence |d| / max(1, |value|).
    assert diff <= 1e-6
    assert_one_copy(out, 2, launches=3)


@pytest.mark.parametrize("argv, message", [
    (["launch", "--workers", "2", "--", "evaluate", "runs/x"], "expected one of pretrain, finetune"),
    (["launch", "--workers", "2"], "received nothing"),
    (["launch", "--workers", "2", "--", "train-lm", "--replicas", "2"], "--replicas-per-worker"),
])
def test_launch_refuses_what_it_cannot_run(argv, message):
    result = run_cli(argv, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr


def test_more_replicas_per_worker_than_gpus_is_one_line_per_worker(tmp_path):
    result = run_cli(["launch", "--workers", "2", "--replicas-per-worker", "2", "--",
                      *lm_args(DATA, tmp_path / "run", "--steps", "2")], timeout=120,
                     CUDA_VISIBLE_DEVICES="")
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if "Error:" in line]
    assert len(errors) == 2 and all("--replicas-per-worker 2 but this worker sees 0 GPU(s)" in e
                                    for e in errors), result.stdout[-2000:]
    assert "Traceback" not in result.stdout


def test_two_workers_learn_the_same_wordpiece_vocabulary(tmp_path):
    """No --vocab: each worker learns one from --corpus, the same as this process did (DATA/vocab.txt)."""
    out = tmp_path / "run"
    result = run_cli(["launch", "--workers", "2", "--", *pretrain_args(out, 10, vocab=None)], timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "[worker 0] done: step 10" in result.stdout and "[worker 1] done: step 10" in result.stdout
    assert (out / "vocab.txt").read_bytes() == (DATA / "vocab.txt").read_bytes()
