"""Carried state that differs between replicas (a stateful LSTM's h and c) in checkpoints.

Weights, optimizer slots and step counters are the same on every replica, so a
checkpoint can hold one copy. The LSTM's carried state is not: each replica
carries the state of its own rows of the global batch. Under several replicas
(``--replicas N``, or several workers) the checkpoint therefore holds every
replica's rows, gathered in replica order - exactly the (global batch, units)
state one device running the whole batch would hold - and each replica takes
its rows back on resume. Every worker must call ``gather`` at the same step
(it is a collective); the checkpoint's saves are step-driven, so they do.
"""
import tensorflow as tf


def carried_state_variables(model):
    """The model's per-replica carried-state variables (``LSTMLMBlock.state_variables``)."""
    found = []
    for layer in model._flatten_layers(include_self=True):
        for pair in getattr(layer, "state_variables", None) or []:
            found.extend(pair)
    return found


class ReplicaState:
    """Gather / scatter the carried state of ``model`` across its strategy's replicas."""

    def __init__(self, model):
        self.strategy = model.distribute_strategy
        self.variables = carried_state_variables(model) if self.strategy.num_replicas_in_sync > 1 else []
        self._gather = self._scatter = None

    def __bool__(self):
        return bool(self.variables)

    def gather(self):
        """Every replica's rows of each variable, concatenated in replica order (numpy)."""
        if self._gather is None:
            def rows():
                context = tf.distribute.get_replica_context()
                return [context.all_gather(tf.identity(tf.convert_to_tensor(v)), axis=0) for v in self.variables]
            self._gather = tf.function(lambda: self.strategy.run(rows))
        results = self._gather()
        return [self.strategy.experimental_local_results(r)[0].numpy() for r in results]

    def scatter(self, values):
        """Give replica ``r`` rows ``[r * b, (r + 1) * b)`` of each value."""
        if self._scatter is None:
            def assign(full_values):
                r = tf.distribute.get_replica_context().replica_id_in_sync_group
                for v, full in zip(self.variables, full_values):
                    b = v.shape[0]
                    v.assign(tf.cast(full[r * b:(r + 1) * b], v.dtype))
            self._scatter = tf.function(lambda full_values: self.strategy.run(assign, args=(full_values,)))
        self._scatter([tf.constant(value) for value in values])
