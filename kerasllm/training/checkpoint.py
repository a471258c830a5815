"""Crash-safe checkpoints that resume mid-epoch, exactly.

``keras.callbacks.BackupAndRestore`` restores weights and the epoch number,
but restarts the interrupted epoch from its first batch and forgets the
running metric averages. To make a resumed run finish bit-for-bit like an
uninterrupted one we save, every ``every`` steps:

- every model variable (weights, dropout seed-generator states, LSTM states),
- every optimizer variable (step counter, moments, loss scale),
- every metric variable (the epoch's running loss / accuracy),
- the global step, from which the trainer derives the epoch and the number
  of batches to skip in the (deterministic) input pipeline.

Files: ``checkpoints/ckpt-<step>.npz`` plus ``checkpoints/state.json`` naming
the latest; both written to a temporary name then renamed, so kill -9 at any
moment leaves the previous checkpoint intact. The last two are kept.
"""
import json
import math
import os
from pathlib import Path

import keras
import numpy as np

from kerasllm.errors import KerasLLMError

STATE_FILE = "state.json"


def _variables(model, with_metrics):
    variables = list(model.variables) + list(model.optimizer.variables)
    if with_metrics:
        variables += list(model.metrics_variables)
    return variables


def latest_step(directory):
    """Global step of the newest checkpoint in ``directory`` (0 when none)."""
    path = Path(directory) / STATE_FILE
    if not path.is_file():
        return 0
    return int(json.loads(path.read_text())["step"])


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the full training state every ``every`` steps; restore it when ``fit`` starts.

    Args:
        read_dir: where to look for a checkpoint to resume from.
        write_dir: where to write checkpoints (None = do not write; used by
            non-chief workers).
        every: checkpoint interval in optimizer steps.
        keep: number of checkpoint files to keep.

    The trainer reads ``latest_step(read_dir)`` before ``fit`` to position the
    data and the epoch; this callback restores the variables in
    ``on_train_begin`` (when Keras has built the optimizer and metrics) and
    the metric state at the start of the resumed epoch.
    """

    def __init__(self, read_dir, write_dir, every, steps_per_epoch, keep=2):
        super().__init__()
        self.steps_per_epoch = int(steps_per_epoch)
        self._restored = False
        self.read_dir = Path(read_dir)
        self.write_dir = Path(write_dir) if write_dir else None
        self.every = int(every)
        self.keep = keep
        self.resumed_step = latest_step(self.read_dir)
        self._pending_metrics = None
        self.last_saved_step = self.resumed_step
        self.stopped_on_nan = None  # step at which the loss became non-finite

    # -- restore ---------------------------------------------------------
    def on_train_begin(self, logs=None):
        if not self.resumed_step or self._restored:
            return  # nothing to resume, or already restored by an earlier fit() call
        self._restored = True
        state = json.loads((self.read_dir / STATE_FILE).read_text())
        path = self.read_dir / state["file"]
        with np.load(path) as data:
            values = [data[f"v{i}"] for i in range(len(data.files))]
        optimizer = self.model.optimizer
        if not optimizer.built:  # as keras.callbacks.BackupAndRestore does
            optimizer.build(self.model.trainable_variables)
        variables = _variables(self.model, with_metrics=False)
        n_model = len(variables)
        metric_vars = list(self.model.metrics_variables)
        if len(values) != n_model + len(metric_vars):
            raise KerasLLMError(
                f"{path}: checkpoint holds {len(values)} variables, the model has "
                f"{n_model + len(metric_vars)}; the run's config changed - pass --overwrite.")
        for var, value in zip(variables, values[:n_model]):
            if tuple(var.shape) != value.shape:
                raise KerasLLMError(
                    f"{path}: variable {var.path} has shape {value.shape} in the checkpoint, "
                    f"{tuple(var.shape)} in the model; pass --overwrite to start afresh.")
            var.assign(value)
        self._pending_metrics = (metric_vars, values[n_model:]) if state["batch"] else None

    def on_epoch_begin(self, epoch, logs=None):
        # fit() resets metrics just before this; put back the interrupted epoch's averages.
        if self._pending_metrics is not None:
            for var, value in zip(*self._pending_metrics):
                var.assign(value)
            self._pending_metrics = None

    # -- save ------------------------------------------------------------
    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        step = int(self.model.optimizer.iterations.numpy())
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_on_nan = step
            self.model.stop_training = True
            return
        if step % self.every == 0:
            self.save(step)

    def on_train_end(self, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if self.stopped_on_nan is None and step > self.last_saved_step:
            self.save(step)

    def save(self, step):
        self.last_saved_step = step
        if self.write_dir is None:
            return
        self.write_dir.mkdir(parents=True, exist_ok=True)
        values = [keras.ops.convert_to_numpy(v) for v in
                  _variables(self.model, with_metrics=True)]
        name = f"ckpt-{step}.npz"
        tmp = self.write_dir / f".{name}.tmp.npz"
        np.savez(tmp, **{f"v{i}": v for i, v in enumerate(values)})
        os.replace(tmp, self.write_dir / name)
        state = {"step": step, "file": name,
                 "batch": step % self.steps_per_epoch}
        tmp_state = self.write_dir / f".{STATE_FILE}.tmp"
        tmp_state.write_text(json.dumps(state))
        os.replace(tmp_state, self.write_dir / STATE_FILE)
        self._prune()

    def _prune(self):
        files = sorted(self.write_dir.glob("ckpt-*.npz"),
                       key=lambda p: int(p.stem.split("-")[1]))
        for old in files[:-self.keep]:
            old.unlink(missing_ok=True)
