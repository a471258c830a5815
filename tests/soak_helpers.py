"""The soak harness: run a training command to its end through kill -9 and SIGTERM,
then hold the result against an uninterrupted run of the same command.

What a long run must keep, checked by ``compare``:
- the same final weights and optimizer state (max |Δ| over every saved variable),
- every epoch once in history.jsonl, every logged step once in TensorBoard
  (after TensorBoard's own purge of a killed run's orphaned steps), with the
  reference run's values,
- a bounded number of checkpoint files and no temporaries left behind,
- flat memory over the epochs of one process (RSS per epoch in history.jsonl).
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from training_helpers import REPO, command, env


def state_step(run_dir):
    path = Path(run_dir) / "checkpoints" / "state.json"
    try:
        return json.loads(path.read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


def _writing(run_dir):
    """True while a checkpoint file is being written (its temporary name exists)."""
    try:
        return any(name.startswith(".ckpt-") for name in os.listdir(Path(run_dir) / "checkpoints"))
    except OSError:
        return False


def run_until(args, run_dir, step, signum, timeout=240, during_write=False, **environ):
    """Start ``kerasllm ARGS``; once this process has saved a checkpoint at or past
    ``step`` (and, with ``during_write``, is writing the next one), send ``signum``.

    Returns ``(returncode, output, step_seen)``; the process may also end by
    itself first (returncode 0).
    """
    first = state_step(run_dir)
    proc = subprocess.Popen(command(args), cwd=REPO, env=env(**environ), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline, seen = time.time() + timeout, 0
    while proc.poll() is None and time.time() < deadline:
        seen = state_step(run_dir)
        if seen >= step and seen > first and (not during_write or _writing(run_dir)):
            proc.send_signal(signum)
            break
        if not during_write:
            time.sleep(0.005)
    output = proc.communicate(timeout=timeout)[0]
    return proc.returncode, output, seen


def interrupted_run(args, run_dir, stops, **environ):
    """Run ``args`` through ``stops`` (``[(step, signal), ...]``; the signal may be
    ``"write"``: kill -9 while a checkpoint is being written), then to the end.

    Returns the list of ``(signal, step signalled at, step resumed from next)``.
    """
    done = []
    for step, signum in stops:
        during_write = signum == "write"
        signum = signal.SIGKILL if during_write else signum
        code, output, seen = run_until(args, run_dir, step, signum, during_write=during_write, **environ)
        expected = {signal.SIGKILL: -9, signal.SIGTERM: 143, signal.SIGINT: 130}[signum]
        assert code == expected, f"exit {code} (expected {expected}) after {signum!r}:\n{output[-3000:]}"
        if signum != signal.SIGKILL:
            assert f"interrupted at step {state_step(run_dir)}; run the same command to resume" in output
        done.append(("write" if during_write else signum.name, seen, state_step(run_dir)))
    final = subprocess.run(command(args), cwd=REPO, env=env(**environ), capture_output=True, text=True,
                           timeout=600)
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-3000:]
    return done


def history(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "history.jsonl").read_text().splitlines()]


def scalars(log_dir, tag):
    """``[(step, value)]`` of ``tag`` as TensorBoard shows it (orphaned steps purged)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0}, purge_orphaned_data=True)
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def max_weight_difference(run_a, run_b):
    """Largest |Δ| between the two runs' final checkpoints, over every saved variable."""
    files = []
    for run in (run_a, run_b):
        state = json.loads((Path(run) / "checkpoints" / "state.json").read_text())
        files.append(np.load(Path(run) / "checkpoints" / state["file"]))
    a, b = files
    assert sorted(a.files) == sorted(b.files)
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)), initial=0.0))
               for k in a.files)


def compare(reference, resumed, keep=2):
    """Assert the resumed run matches the uninterrupted one; returns the figures."""
    diff = max_weight_difference(reference, resumed)
    ref_rows, rows = history(reference), history(resumed)
    assert [r["epoch"] for r in rows] == list(range(1, len(ref_rows) + 1)), "an epoch missing or twice"
    assert [r["step"] for r in rows] == [r["step"] for r in ref_rows]
    for tag in ("batch_loss", "epoch_loss"):
        ref, got = scalars(Path(reference) / "logs" / "train", tag), scalars(Path(resumed) / "logs" / "train", tag)
        assert [s for s, _ in got] == [s for s, _ in ref], f"{tag}: steps differ from the uninterrupted run"
        assert np.allclose([v for _, v in got], [v for _, v in ref], rtol=1e-5, atol=1e-6), tag
    checkpoints = Path(resumed) / "checkpoints"
    assert len(list(checkpoints.glob("ckpt-*.npz"))) <= keep + 1  # the last `keep` plus the best
    assert not list(checkpoints.glob(".*")), "temporary files left behind"
    rss = [r["rss_mib"] for r in ref_rows]
    return {"max_abs_diff": diff, "epochs": len(rows), "steps": rows[-1]["step"],
            "rss_mib": rss, "rss_growth": rss[-1] / rss[1] - 1}
