"""Progress as plain lines for logs and pipes, where keras' \\r / ANSI bar becomes noise.

Keras draws its dynamic bar whenever it runs on a POSIX system, even into a
file (a demo log grew to 209 KB). When stdout is not a terminal the trainer
runs fit with ``verbose=2`` (one line an epoch) and adds ``PlainProgress``:
a ``step N/M  loss ...`` line every ``every_seconds`` or every 10 % of an epoch.
"""
import sys
import time

import keras


def interactive():
    """True when stdout is a terminal (the keras bar is fine there)."""
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


class PlainProgress(keras.callbacks.Callback):
    """Print ``epoch E step N/M  name value ...`` now and then, one plain line each."""

    def __init__(self, steps_per_epoch, every_seconds=30.0):
        super().__init__()
        self.steps_per_epoch = int(steps_per_epoch)
        self.every_steps = max(1, self.steps_per_epoch // 10)
        self.every_seconds = float(every_seconds)
        self._epoch, self._last = 0, time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        step, now = batch + 1, time.monotonic()
        if step % self.every_steps and now - self._last < self.every_seconds:
            return
        self._last = now
        values = "  ".join(f"{k} {float(v):.4f}" for k, v in sorted((logs or {}).items())
                           if isinstance(v, (int, float)) or hasattr(v, "__float__"))
        print(f"epoch {self._epoch + 1} step {step}/{self.steps_per_epoch}  {values}",
              flush=True)
