"""One job per RUN_DIR: a second job stops with one line and touches nothing; a killed
holder leaves no lock behind."""
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.training.run_lock import LOCK_FILE, lock_run_dir
from training_helpers import env, lm_args, write_data

HOLD = ("import sys, time; from kerasllm.training.run_lock import lock_run_dir; "
        "lock = lock_run_dir(sys.argv[1]); print('held', flush=True); time.sleep(600)")


def hold_in_another_process(run_dir):
    """A process that holds ``run_dir``'s lock until killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE,
                              text=True, env=env())
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_lock_is_exclusive_named_and_removed_on_release(tmp_path):
    run_dir = tmp_path / "new" / "run"
    lock = lock_run_dir(run_dir)  # creates the folders
    assert (run_dir / LOCK_FILE).read_text().startswith("pid ")
    with pytest.raises(KerasLLMError, match=r"another kerasllm job is writing this run \(pid \d+ on "):
        lock_run_dir(run_dir)
    lock.release()
    assert not (run_dir / LOCK_FILE).exists()
    lock.release()  # twice is harmless
    again = lock_run_dir(run_dir)
    assert again is not None
    again.release()
    (tmp_path / "file").write_text("x")
    assert lock_run_dir(tmp_path / "file") is None  # not a folder: the run-dir checks say so


def test_a_killed_holder_leaves_no_lock(tmp_path):
    holder = hold_in_another_process(tmp_path / "run")
    with pytest.raises(KerasLLMError, match=f"pid {holder.pid} "):
        lock_run_dir(tmp_path / "run")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (tmp_path / "run" / LOCK_FILE).exists()  # the file stays, unlocked
    lock = lock_run_dir(tmp_path / "run")
    assert f"pid {holder.pid} " not in (tmp_path / "run" / LOCK_FILE).read_text()
    lock.release()


def test_a_second_job_on_a_busy_run_dir_stops_with_one_line_and_writes_nothing(tmp_path):
    data = write_data(tmp_path)
    run_dir = tmp_path / "run"
    runner = CliRunner()
    first = runner.invoke(cli, lm_args(data, run_dir, "--epochs", "1"))
    assert first.exit_code == 0, first.output
    assert not (run_dir / LOCK_FILE).exists()  # a finished job unlocks and cleans up
    before = {p.name: p.stat().st_mtime_ns for p in run_dir.rglob("*")}

    holder = hold_in_another_process(run_dir)  # e.g. the same command still running elsewhere
    try:
        for extra in ([], ["--overwrite"]):
            start = time.time()
            second = runner.invoke(cli, lm_args(data, run_dir, "--epochs", "1", *extra))
            errors = [line for line in second.output.splitlines() if line.startswith("Error:")]
            assert second.exit_code != 0 and len(errors) == 1, second.output
            assert "Traceback" not in second.output
            assert f"another kerasllm job is writing this run (pid {holder.pid} " in errors[0]
            assert "--output" in errors[0] and time.time() - start < 60
        after = {p.name: p.stat().st_mtime_ns for p in run_dir.rglob("*") if p.name != LOCK_FILE}
        assert after == {k: v for k, v in before.items() if k != LOCK_FILE}  # nothing touched
    finally:
        holder.kill()
        holder.wait()
    resumed = runner.invoke(cli, lm_args(data, run_dir, "--epochs", "1"))
    assert resumed.exit_code == 0, resumed.output
    assert not (run_dir / LOCK_FILE).exists()
