"""Callbacks: TensorBoard scalars and history by global step, perplexity, LSTM state resets.

``RunLogger`` writes the run's curves (per-step learning rate, loss, speed;
per-epoch train / validation metrics as ``epoch_*`` tags in ``logs/train``
and ``logs/validation``), keyed by the optimizer's global step so a resumed
run continues the same curves and never shows a step twice. Keras' own
``TensorBoard`` callback is used only for the profiler.
"""
import json
import math
import os
import time
from pathlib import Path

import keras
import tensorflow as tf
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.plugins.hparams import api as hp
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from kerasllm.training.optimizers import current_learning_rate


def _hparam_value(value):
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def flat_hparams(config, prefix=""):
    """Flatten a nested config into ``{"model.hidden_dim": 256, ...}`` for the hparams plugin."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flat_hparams(value, f"{prefix}{key}."))
        elif value is not None:
            flat[f"{prefix}{key}"] = _hparam_value(value)
    return flat


class RunLogger(keras.callbacks.Callback):
    """TensorBoard scalars and RUN_DIR/history.jsonl, each step logged exactly once across resumes.

    Writes, keyed by the optimizer's global step:
    - every ``every`` steps, to ``log_dir/train``: ``learning_rate``,
      ``batch_loss``, ``steps_per_second``, ``tokens_per_second``;
    - at every epoch end, ``epoch_<metric>`` to ``log_dir/train`` and the
      eval metrics to ``log_dir/validation`` (as Keras' TensorBoard callback
      names them, but by step, so a resumed run continues the same x-axis),
      and one JSON line ``{"epoch", "step", metrics..., "rss_mib"}`` to ``history``.
    The run's hyper-parameters go to ``log_dir`` once, for the hparams dashboard.

    A resumed run starts at its checkpoint's step ``s``, but a killed run may
    have logged past ``s``. Each session therefore begins with a
    ``SessionLog.START`` event at ``s + 1``, on which TensorBoard drops every
    earlier event at a step > ``s`` (its "orphaned data" purge), and
    history.jsonl is cut back to ``s``. ``flush`` runs before a checkpoint is
    committed, so nothing logged up to a saved step is ever missing.
    The scalars are written with TensorBoard's own event writer (plain
    Python, no TensorFlow ops), since ``tf.summary`` cannot write that event.

    Args:
        log_dir: RUN_DIR/logs.
        history: path of history.jsonl.
        tokens_per_step: tokens in one global batch.
        hparams: flat mapping for the hparams dashboard (or None).
        every: step-scalar interval.
        resumed_step: the checkpoint step this session starts from.
    """

    def __init__(self, log_dir, history, tokens_per_step, hparams=None, every=10, resumed_step=0):
        super().__init__()
        self.log_dir, self.history = Path(log_dir), Path(history)
        self.tokens_per_step = tokens_per_step
        self.hparams = hparams
        self.every = max(int(every), 1)
        self.resumed_step = int(resumed_step)
        self._writers = {}
        self._history_file = None
        self._window = None  # (time, step) at the start of the current window

    def on_train_begin(self, logs=None):
        if self._writers:
            return  # a second fit() call of the same session
        start = event_pb2.Event(wall_time=time.time(), step=self.resumed_step + 1,
                                session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
        for name in ("train", "validation"):
            self._writers[name] = EventFileWriter(str(self.log_dir / name))
            self._writers[name].add_event(start)
        self._history_file = _truncated_history(self.history, self.resumed_step)
        if self.hparams:
            with tf.summary.create_file_writer(str(self.log_dir)).as_default():
                hp.hparams(self.hparams, trial_id=self.log_dir.parent.name)
        self._window = (time.perf_counter(), self._step())

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def log_scalars(self, writer, step, values):
        """Write ``values`` (name -> float) at ``step`` to ``log_dir/writer`` ("train" / "validation")."""
        self._scalars(writer, step, values)

    def _scalars(self, writer, step, values):
        summary = summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag=tag, simple_value=float(value))
            for tag, value in values.items() if math.isfinite(value)])  # a diverged loss: see the trainer
        self._writers[writer].add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.every:
            return
        now = time.perf_counter()
        start_time, start_step = self._window
        steps_per_second = (step - start_step) / max(now - start_time, 1e-9)
        self._scalars("train", step, {
            "learning_rate": current_learning_rate(self.model.optimizer),
            "steps_per_second": steps_per_second,
            "tokens_per_second": steps_per_second * self.tokens_per_step,
            "batch_loss": float((logs or {}).get("loss", math.nan))})
        self._window = (now, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float))}
        step = self._step()
        self._scalars("train", step, {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")})
        self._scalars("validation", step, {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")})
        row = {"epoch": epoch + 1, "step": step, **logs}
        rss = resident_mib()
        if rss is not None:
            row["rss_mib"] = rss
        self._history_file.write(json.dumps(row) + "\n")

    def flush(self):
        for writer in self._writers.values():
            writer.flush()
        if self._history_file is not None:
            self._history_file.flush()

    def on_train_end(self, logs=None):
        self.flush()


def resident_mib():
    """This process's resident memory in MiB (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _truncated_history(path, step):
    """Open history.jsonl for appending after dropping rows past ``step`` (a killed run's)."""
    kept = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the torn last line of a killed write
            if row.get("step", 0) <= step:
                kept.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(line + "\n" for line in kept))
    os.replace(tmp, path)
    return open(path, "a")


class Perplexity(keras.callbacks.Callback):
    """Add ``perplexity`` / ``val_perplexity`` = exp(loss) to the epoch logs.

    Put it before the TensorBoard callback so the values are written too.
    """

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for key in ("loss", "val_loss"):
            if key in logs:
                name = key.replace("loss", "perplexity")
                loss = float(logs[key])
                logs[name] = math.exp(loss) if loss < 88.0 else math.inf  # float32 range
        if "val_perplexity" in logs:
            print(f"epoch {epoch + 1}: eval perplexity {logs['val_perplexity']:.2f}")


class ResetStates(keras.callbacks.Callback):
    """Reset a stateful LSTM's carried state at every epoch and before evaluation.

    Truncated BPTT carries the state from one window to the next within an
    epoch; a new pass over the data (or an evaluation pass) starts from zeros.
    ``skip_first`` skips the reset once, when resuming mid-epoch.
    """

    def __init__(self, skip_first=False):
        super().__init__()
        self.skip_first = skip_first

    def on_epoch_begin(self, epoch, logs=None):
        if self.skip_first:
            self.skip_first = False
            return
        self.model.reset_states()

    def on_test_begin(self, logs=None):
        self.model.reset_states()


def profiler(log_dir, profile_steps):
    """Keras' TensorBoard callback, used only to run the profiler over ``profile_steps``
    (its epoch scalars go to ``log_dir``, apart from the run's own curves)."""
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch", write_graph=False,
                                       profile_batch=profile_steps)
