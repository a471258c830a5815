"""Several workers acting as one: agreeing to stop, and one line when a peer is lost.

Under ``MultiWorkerMirroredStrategy`` every train step all-reduces the
gradients, so the workers must run the same number of steps:

- a signal (a scheduler draining the job) reaches the workers at slightly
  different moments, so ``signalled_anywhere`` all-reduces each worker's
  flag after every step and they all stop at the same step;
- a worker that dies (kill -9, a lost host) makes the others' collectives
  fail (at once when its connection resets, otherwise when TensorFlow's
  health check gives up on it); ``peer_failures`` turns that error into one
  line saying how to resume.
"""
import contextlib

import tensorflow as tf

from kerasllm.errors import KerasLLMError
from kerasllm.training.checkpoint import latest_step

# What a collective raises when a peer is gone: reset connection, aborted by
# the health check, timed out (KERASLLM_COLLECTIVE_TIMEOUT_S), cancelled.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
               tf.errors.AbortedError, tf.errors.FailedPreconditionError, tf.errors.InternalError)


def multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


class PeerLost(KerasLLMError):
    """Another worker stopped answering; every worker must be re-launched to resume."""


@contextlib.contextmanager
def peer_failures(strategy, checkpoints):
    """Turn a failed collective under a multi-worker strategy into one ``PeerLost`` line."""
    try:
        yield
    except PEER_ERRORS as err:
        if not multi_worker(strategy):
            raise
        first = (err.message or type(err).__name__).strip().splitlines()[0][:200]
        raise PeerLost(
            f"another worker stopped answering ({type(err).__name__}: {first}); this worker stops too. "
            f"Re-launch every worker with the same command to resume from step "
            f"{latest_step(checkpoints)}.") from None


class SignalVote:
    """``vote(flag)``: True on every worker when any worker passed a true flag."""

    def __init__(self, strategy):
        self.strategy = strategy

        def add_up(flag):  # identity: place the flag on the replica's device first
            return tf.distribute.get_replica_context().all_reduce("SUM", tf.identity(flag))

        self._total = tf.function(lambda flag: strategy.run(add_up, args=(flag,)))

    def vote(self, flag):
        result = self._total(tf.constant(1.0 if flag else 0.0))
        return int(self.strategy.experimental_local_results(result)[0]) > 0
