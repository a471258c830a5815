"""Set up a job's RUN_DIR: refuse a different config, honour --overwrite, seed, determinism.

Re-running the same command on an existing RUN_DIR resumes it; a RUN_DIR
holding a run with a different config is refused (one line naming the first
differing key) unless ``--overwrite``.
"""
import dataclasses
import hashlib
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf
import yaml

from kerasllm import runs
from kerasllm.config import read_yaml
from kerasllm.errors import KerasLLMError
from kerasllm.training.run_lock import LOCK_FILE, lock_run_dir
from kerasllm.training.strategy import is_chief, worker_rank

# Options that do not change what is trained, so they may differ on resume.
NOT_COMPARED = ("output", "overwrite", "config", "profile_steps", "keep_checkpoints")


@dataclasses.dataclass
class RunContext:
    """Where a job reads and writes: ``path`` is RUN_DIR, ``write_path`` is
    RUN_DIR on the chief and a scratch directory on other workers."""
    path: Path
    write_path: Path
    chief: bool
    checkpoint_every: int
    profile_steps: object = None
    keep_checkpoints: int = 2
    lock: object = None  # the chief's RunLock on RUN_DIR (run_lock.py)

    @property
    def log_dir(self):
        return self.write_path / "logs"

    def close(self):
        """Unlock RUN_DIR; remove a non-chief worker's scratch directory (RUN_DIR stays)."""
        if self.lock is not None:
            self.lock.release()
        if not self.chief:
            shutil.rmtree(self.write_path, ignore_errors=True)


def scratch_dir(path, rank):
    """Where non-chief worker ``rank`` writes what only the chief keeps (its checkpoints,
    logs): outside RUN_DIR, named by RUN_DIR and the rank, emptied at start, so a
    killed worker's leftovers are reused by the re-launch instead of piling up."""
    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:12]
    scratch = Path(tempfile.gettempdir()) / f"kerasllm-worker-{digest}-{rank}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    return scratch


def _first_difference(old, new, prefix=""):
    for key in sorted(set(old) | set(new)):
        if prefix == "" and key in NOT_COMPARED:
            continue
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif a != b:
            return f"{prefix}{key}", a, b
    return None


def _normalise(config):
    """Round-trip through YAML so tuples, numpy scalars and paths compare equal."""
    return yaml.safe_load(yaml.safe_dump(runs._plain(config)))


def _looks_like_run(path):
    return any((path / name).exists() for name in
               (runs.CONFIG_FILE, "checkpoints", "logs", runs.MODEL_FILE))


def prepare_run_dir(output, config, overwrite=False):
    """Check / create RUN_DIR for ``config``; return True when resuming an existing run."""
    path = Path(output)
    config = _normalise(config)
    if path.exists() and not path.is_dir():
        raise KerasLLMError(f"--output {path}: exists and is not a directory; choose another path.")
    contents = [p for p in path.iterdir() if p.name != LOCK_FILE] if path.is_dir() else []
    occupied = bool(contents)
    if occupied and overwrite:
        if not _looks_like_run(path):
            raise KerasLLMError(
                f"--output {path}: not empty and not a kerasllm run; refusing to delete it "
                f"even with --overwrite - choose an empty or new directory.")
        for item in contents:  # not the lock file: this job holds it
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()
        occupied = False
    if occupied:
        config_path = path / runs.CONFIG_FILE
        if not config_path.is_file():
            raise KerasLLMError(
                f"--output {path}: not empty and holds no {runs.CONFIG_FILE}; choose a new "
                f"directory (or pass --overwrite if it is an interrupted kerasllm run).")
        runs.check_output_job(path, config.get("job"))
        diff = _first_difference(read_yaml(config_path), config)
        if diff:
            key, old, new = diff
            raise KerasLLMError(
                f"--output {path} holds a run with a different config (key '{key}': "
                f"{old!r} there, {new!r} now); pass --overwrite or choose another --output.")
    path.mkdir(parents=True, exist_ok=True)
    runs.write_config(path, config)
    return occupied


def setup_run(options, config, strategy):
    """Prepare RUN_DIR (on the chief) and seed everything; returns a RunContext."""
    keras.utils.set_random_seed(options["seed"])
    if options.get("deterministic", True):
        tf.config.experimental.enable_op_determinism()
    path = Path(options["output"])
    chief, lock = is_chief(), None
    if chief:
        lock = lock_run_dir(path)  # before anything in RUN_DIR is read or written
        try:
            prepare_run_dir(path, config, options.get("overwrite", False))
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        write_path = path
    else:
        # Other workers must write somewhere, but never into the chief's RUN_DIR.
        write_path = scratch_dir(path, worker_rank())
    return RunContext(path=path, write_path=write_path, chief=chief,
                      checkpoint_every=options["checkpoint_every"],
                      profile_steps=options.get("profile_steps"),
                      keep_checkpoints=options.get("keep_checkpoints", 2), lock=lock)
