"""Work around a Keras 3.15 bug: model.fit under MultiWorkerMirroredStrategy.

``keras/src/backend/tensorflow/trainer.py::reduce_per_replica`` reduces every
per-replica log value with ``strategy.reduce("MEAN", v, axis=0)`` under a
multi-worker collective strategy, and the logs are scalars (loss, metrics),
so ``fit`` fails with "Invalid reduction dimension 0 for input with 0
dimensions". We reduce scalars with ``axis=None`` (the mean over replicas,
which is what single-worker MirroredStrategy returns) and leave everything
else to Keras. Applied only when a job runs multi-worker.
"""
import tensorflow as tf
from keras.src.backend.tensorflow import trainer as keras_tf_trainer

_original = keras_tf_trainer.reduce_per_replica


def _reduce_per_replica(values, strategy, reduction):
    if reduction in ("auto", "mean") and isinstance(
            strategy, tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(v):
            # One local replica: v is a plain tensor; several: a PerReplica.
            if strategy.experimental_local_results(v)[0].shape.rank == 0:
                return strategy.reduce("MEAN", v, axis=None)
            return _original(v, strategy, reduction)
        return tf.nest.map_structure(reduce, values)
    return _original(values, strategy, reduction)


def patch_multi_worker_fit():
    """Install the scalar-safe reduction (idempotent)."""
    keras_tf_trainer.reduce_per_replica = _reduce_per_replica
