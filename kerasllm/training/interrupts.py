"""Stop training cleanly on SIGTERM (preemption) and SIGINT (Ctrl-C).

A cluster scheduler sends SIGTERM some seconds before it takes a machine
away. ``StopOnSignal`` turns the signal into a flag; at the end of the
current train step it writes a checkpoint at that step (through the
``ResumableCheckpoint``) and raises ``TrainingInterrupted``, which the CLI
turns into ``interrupted at step N; run the same command to resume`` and
exit status 143 (SIGTERM) or 130 (SIGINT): 143 is what
``tf.distribute.experimental.PreemptionCheckpointHandler`` exits with, so a
scheduler restarts the job instead of marking it complete.

Why not ``PreemptionCheckpointHandler`` itself: it saves a
``tf.train.Checkpoint`` from inside a custom training loop
(``handler.run(step_fn)``) and has no Keras 3 ``model.fit`` hook, while our
checkpoints must also hold the metric state and the data position (see
``checkpoint.py``). What it adds for several workers - agreeing on one step
to stop at - ``peers.SignalVote`` does here: under a multi-worker strategy
the workers all-reduce their flags after every step, so all of them stop
(and the chief checkpoints) at the same step, whichever got the signal.

A second Ctrl-C while the step finishes interrupts at once (Python's default).
"""
import signal
import threading

import keras

from kerasllm.errors import KerasLLMError
from kerasllm.training.peers import SignalVote, multi_worker

EXIT_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}


class TrainingInterrupted(KerasLLMError):
    """Training stopped on a signal after saving a checkpoint; ``exit_code`` is 128 + signal."""

    def __init__(self, step, signum):
        self.step, self.exit_code = step, EXIT_CODES[signum]
        super().__init__(f"interrupted at step {step}; run the same command to resume")


class StopOnSignal(keras.callbacks.Callback):
    """Checkpoint and stop at the end of the step during which SIGTERM or SIGINT arrived.

    Args:
        checkpoint: the run's ``ResumableCheckpoint`` (its ``save`` writes the step).

    Use as a context manager around ``fit`` (it installs the handlers, and
    puts the previous ones back afterwards), and list it last among the
    callbacks so the step's logs are written before it stops.
    """

    def __init__(self, checkpoint):
        super().__init__()
        self.checkpoint = checkpoint
        self.signum = None
        self._previous = {}
        self._vote = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signals go to the main thread only
            for signum in EXIT_CODES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum, frame):
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now
        self.signum = signum

    def set_model(self, model):
        super().set_model(model)
        strategy = model.distribute_strategy
        self._vote = SignalVote(strategy) if multi_worker(strategy) else None

    def _stop_if_signalled(self):
        signum = self.signum  # read once: a signal arriving after the vote waits for the next step
        if self._vote is not None:
            if not self._vote.vote(signum is not None):
                return
            signum = signum or signal.SIGTERM  # another worker was signalled: stop at the same step
        if signum is not None:
            step = int(self.model.optimizer.iterations.numpy())
            self.checkpoint.save(step)
            raise TrainingInterrupted(step, signum)

    def on_train_begin(self, logs=None):
        self._stop_if_signalled()

    def on_train_batch_end(self, batch, logs=None):
        self._stop_if_signalled()

    def on_epoch_end(self, epoch, logs=None):
        self._stop_if_signalled()  # a signal during the epoch's evaluation pass
