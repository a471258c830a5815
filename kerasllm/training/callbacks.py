"""Callbacks: TensorBoard scalars by global step, hparams, perplexity, LSTM state resets.

Keras' own ``TensorBoard`` callback writes the per-epoch train / validation
loss and metrics (``epoch_*`` tags in ``logs/train`` and ``logs/validation``)
and runs the profiler. ``StepLogger`` adds what it does not: learning rate,
steps/s and tokens/s keyed by the optimizer's global step (so a resumed run
continues the same curves) and the run's hyper-parameters for the hparams
dashboard.
"""
import math
import time
from pathlib import Path

import keras
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

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


class StepLogger(keras.callbacks.Callback):
    """Write ``learning_rate``, ``batch_loss``, ``steps_per_second`` and ``tokens_per_second``.

    Args:
        log_dir: RUN_DIR/logs; scalars go to ``log_dir/train``, hparams to ``log_dir``.
        tokens_per_step: tokens in one global batch (batch x sequence length).
        hparams: flat mapping written once for the hparams dashboard (or None).
        every: write every ``every`` steps.
    """

    def __init__(self, log_dir, tokens_per_step, hparams=None, every=10):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.tokens_per_step = tokens_per_step
        self.hparams = hparams
        self.every = max(int(every), 1)
        self._writer = None
        self._window = None  # (time, step) at the start of the current window

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(str(self.log_dir / "train"))
        if self.hparams:
            with tf.summary.create_file_writer(str(self.log_dir)).as_default():
                hp.hparams(self.hparams, trial_id=self.log_dir.parent.name)
            self.hparams = None  # once per process, not once per fit() call
        self._window = (time.perf_counter(), self._step())

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.every:
            return
        now = time.perf_counter()
        start_time, start_step = self._window
        steps_per_second = (step - start_step) / max(now - start_time, 1e-9)
        values = {"learning_rate": current_learning_rate(self.model.optimizer),
                  "steps_per_second": steps_per_second,
                  "tokens_per_second": steps_per_second * self.tokens_per_step,
                  "batch_loss": float((logs or {}).get("loss", math.nan))}
        with self._writer.as_default(step=step):
            for name, value in values.items():
                if math.isfinite(value):  # a diverged loss is reported by the trainer
                    tf.summary.scalar(name, value)
        self._window = (now, step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()


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


def tensorboard(log_dir, profile_steps=None):
    """Keras' TensorBoard callback: epoch train / validation metrics, optional profiler."""
    return keras.callbacks.TensorBoard(
        log_dir=str(log_dir), update_freq="epoch", write_graph=False,
        profile_batch=profile_steps or 0)
