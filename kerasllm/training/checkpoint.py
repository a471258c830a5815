"""Crash-safe checkpoints that resume mid-epoch, exactly, and keep the best epoch.

``keras.callbacks.BackupAndRestore`` restores weights and the epoch number,
but restarts the interrupted epoch from its first batch and forgets the
running metric averages. To make a resumed run finish bit-for-bit like an
uninterrupted one we save, every ``every`` steps and at every epoch end:

- every model variable (weights, dropout seed-generator states, LSTM states),
- every optimizer variable (step counter, moments, loss scale),
- every metric variable (the epoch's running loss / accuracy),
- the global step, from which the trainer derives the epoch and the number
  of batches to skip in the (deterministic) input pipeline,
- the best eval value so far and the epochs since it (early stopping).

Files: ``checkpoints/ckpt-<step>.npz`` plus ``checkpoints/state.json`` naming
the latest; each written to a temporary name and renamed, so kill -9 at any
moment leaves the previous checkpoint loadable (stale temporaries are removed
at the next start). The last ``keep`` are kept, plus the best one.
"""
import json
import math
import os
from pathlib import Path

import keras
import numpy as np

from kerasllm.errors import KerasLLMError
from kerasllm.training.replica_state import ReplicaState

STATE_FILE = "state.json"


def _variables(model, with_metrics):
    variables = list(model.variables) + list(model.optimizer.variables)
    if with_metrics:
        variables += list(model.metrics_variables)
    return variables


def read_state(directory):
    """The newest checkpoint's state (``{"step": 0}`` when there is none)."""
    path = Path(directory) / STATE_FILE
    return json.loads(path.read_text()) if path.is_file() else {"step": 0}


def latest_step(directory):
    """Global step of the newest checkpoint in ``directory`` (0 when none)."""
    return int(read_state(directory)["step"])


def _load(path):
    with np.load(path) as data:
        return [data[f"v{i}"] for i in range(len(data.files))]


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the full training state; restore it when ``fit`` starts.

    Args:
        read_dir: where to look for a checkpoint to resume from.
        write_dir: where to write checkpoints (None = do not write; used by
            non-chief workers).
        every: checkpoint interval in optimizer steps (epoch ends are saved too).
        steps_per_epoch: optimizer steps per epoch.
        keep: number of latest checkpoint files to keep (the best is kept besides).
        monitor: eval metric to track (e.g. ``"val_loss"``), or None.
        mode: ``"min"`` or ``"max"``: which direction of ``monitor`` is better.
        patience: stop after this many epochs without a better ``monitor``
            (0 = never stop early).
        before_commit: callables run after a checkpoint file is written and
            before ``state.json`` points at it (e.g. flushing the logs, so
            nothing logged up to the saved step can be lost).

    The trainer reads ``latest_step(read_dir)`` before ``fit`` to position the
    data and the epoch; this callback restores the variables in
    ``on_train_begin`` (when Keras has built the optimizer and metrics) and
    the metric state at the start of the resumed epoch.
    """

    def __init__(self, read_dir, write_dir, every, steps_per_epoch, keep=2, monitor=None, mode="min",
                 patience=0, before_commit=()):
        super().__init__()
        self.read_dir = Path(read_dir)
        self.write_dir = Path(write_dir) if write_dir else None
        self.every, self.steps_per_epoch, self.keep = int(every), int(steps_per_epoch), max(int(keep), 1)
        self.monitor, self.mode, self.patience = monitor, mode, int(patience or 0)
        self.before_commit = list(before_commit)
        self.state = read_state(self.read_dir)
        self.resumed_step = int(self.state["step"])
        self.last_saved_step = self.resumed_step
        self.committed_step = self.resumed_step  # what state.json names now
        self.best = self.state.get("best")  # {"step", "file", "value"} or None
        self.since_best = int(self.state.get("since_best", 0))
        self.stopped_on_nan = None  # step at which the loss became non-finite
        self.stopped_early = None  # step at which early stopping ended the run
        self._restored = False
        self._pending_metrics = None
        self._replica_state = None  # built on first use, when the model is set
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self):
        """A kill -9 during a write leaves ``.<name>.tmp*`` behind; nobody else writes here."""
        if self.write_dir is not None and self.write_dir.is_dir():
            for stale in self.write_dir.glob(".*.tmp*"):
                stale.unlink(missing_ok=True)

    # -- restore ---------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.resumed_step or self._restored:
            return  # nothing to resume, or already restored by an earlier fit() call
        self._restored = True
        path = self.read_dir / self.state["file"]
        values = _load(path)
        optimizer = self.model.optimizer
        if not optimizer.built:  # as keras.callbacks.BackupAndRestore does
            optimizer.build(self.model.trainable_variables)
        variables = _variables(self.model, with_metrics=False)
        metric_vars = list(self.model.metrics_variables)
        if len(values) != len(variables) + len(metric_vars):
            raise KerasLLMError(
                f"{path}: checkpoint holds {len(values)} variables, the model has "
                f"{len(variables) + len(metric_vars)}: the run's config or kerasllm changed since it was "
                f"written. Resume it with the kerasllm version that wrote it, or pass --overwrite to "
                f"start afresh.")
        carried = self._carried_indices(variables)
        self._assign([v for i, v in enumerate(variables) if i not in carried],
                     [x for i, x in enumerate(values[:len(variables)]) if i not in carried], path)
        if carried:  # each replica takes its own rows of the carried state back
            self._replica_state.scatter([values[i] for i in carried])
        self._pending_metrics = (metric_vars, values[len(variables):]) if self.state["batch"] else None

    def _carried_indices(self, variables):
        """Positions in ``variables`` of per-replica carried state (see replica_state.py)."""
        if self._replica_state is None:
            self._replica_state = ReplicaState(self.model)
        ids = {id(v) for v in self._replica_state.variables}
        return [i for i, v in enumerate(variables) if id(v) in ids]

    @staticmethod
    def _assign(variables, values, path):
        for var, value in zip(variables, values):
            if tuple(var.shape) != value.shape:
                raise KerasLLMError(
                    f"{path}: variable {var.path} has shape {value.shape} in the checkpoint, "
                    f"{tuple(var.shape)} in the model; pass --overwrite to start afresh.")
            var.assign(value)

    def restore_best(self):
        """Put the best checkpoint's model weights back; returns its step (None if no best)."""
        if not self.best:
            return None
        # A non-chief worker that resumed holds the best file only in the chief's RUN_DIR.
        directory = self.write_dir if self.write_dir and (self.write_dir / self.best["file"]).is_file() \
            else self.read_dir
        values = _load(directory / self.best["file"])
        variables = list(self.model.variables)
        self._assign(variables, values[:len(variables)], directory / self.best["file"])
        return int(self.best["step"])

    def on_epoch_begin(self, epoch, logs=None):
        # fit() resets metrics just before this; put back the interrupted epoch's averages.
        if self._pending_metrics is not None:
            for var, value in zip(*self._pending_metrics):
                var.assign(value)
            self._pending_metrics = None

    # -- save ------------------------------------------------------------
    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        step = self._step()
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_on_nan = step
            self.model.stop_training = True
            return
        # An epoch's last step is saved by on_epoch_end, after its evaluation and logs:
        # a checkpoint there must mean "this epoch is complete".
        if step % self.every == 0 and step % self.steps_per_epoch:
            self.save(step)

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_on_nan is not None:
            return
        step = self._step()
        value = (logs or {}).get(self.monitor) if self.monitor else None
        improved = value is not None and math.isfinite(value) and (
            self.best is None or (value < self.best["value"] if self.mode == "min" else value > self.best["value"]))
        if value is not None:
            self.since_best = 0 if improved else self.since_best + 1
        if improved:
            self.best = {"step": step, "file": f"ckpt-{step}.npz", "value": float(value)}
        self.save(step, force=True)
        if self.patience and self.since_best >= self.patience:
            self.stopped_early = step
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_on_nan is None:
            self.save(self._step())

    def save(self, step, force=False):
        """Write the state at ``step`` (skipped when already saved, unless ``force``)."""
        if step <= self.last_saved_step and not force:
            return
        self.last_saved_step = step
        variables = _variables(self.model, with_metrics=True)
        carried = self._carried_indices(variables)
        gathered = self._replica_state.gather() if carried else []  # a collective: every worker, every save
        if self.write_dir is None:
            return
        name = f"ckpt-{step}.npz"
        values = [keras.ops.convert_to_numpy(v) for v in variables]
        for i, value in zip(carried, gathered):
            values[i] = value
        state = {"step": step, "file": name, "batch": step % self.steps_per_epoch,
                 "best": self.best, "since_best": self.since_best}
        try:
            self.write_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.write_dir / f".{name}.tmp.npz"
            np.savez(tmp, **{f"v{i}": v for i, v in enumerate(values)})
            os.replace(tmp, self.write_dir / name)
            for hook in self.before_commit:
                hook()
            tmp_state = self.write_dir / f".{STATE_FILE}.tmp"
            tmp_state.write_text(json.dumps(state))
            os.replace(tmp_state, self.write_dir / STATE_FILE)
        except OSError as err:
            self._remove_stale_temporaries()
            raise KerasLLMError(
                f"cannot write checkpoint {self.write_dir / name}: {err.strerror or err}; the last good "
                f"checkpoint (step {self.committed_step}) is kept. Free space or fix permissions, then run "
                f"the same command to resume.") from None
        self.committed_step = step
        self._prune()

    def _prune(self):
        files = sorted(self.write_dir.glob("ckpt-*.npz"), key=lambda p: int(p.stem.split("-")[1]))
        best = self.best["file"] if self.best else None
        for old in files[:-self.keep]:
            if old.name != best:
                old.unlink(missing_ok=True)
