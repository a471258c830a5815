"""Pick the tf.distribute strategy for a job.

- ``TF_CONFIG`` naming several workers -> ``MultiWorkerMirroredStrategy``
  (one replica per worker on a CPU, all of the worker's visible GPUs
  otherwise; see ``multi_worker_strategy``).
- ``replicas=N`` -> ``MirroredStrategy`` over N GPUs, or, on a CPU-only
  machine, over N logical CPU devices (so data-parallel training is testable
  without GPUs).
- otherwise ``MirroredStrategy`` over all visible GPUs when there are several,
  and the default (single-device) strategy when there is one or none.

Strategies must be chosen before TensorFlow initialises its devices, so call
``make_strategy`` before building any tensor.
"""
import json
import os

import tensorflow as tf

from kerasllm.errors import KerasLLMError


def cluster_spec():
    """``(cluster, task)`` from ``TF_CONFIG``, or ``(None, None)``."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None, None
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as err:
        raise KerasLLMError(f"TF_CONFIG is not valid JSON ({err}); fix or unset it.") from None
    return conf.get("cluster") or {}, conf.get("task") or {}


def num_workers():
    """Number of worker processes named in TF_CONFIG (1 when it is unset)."""
    cluster, _ = cluster_spec()
    if not cluster:
        return 1
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def is_chief():
    """True for the process that writes RUN_DIR (chief, or worker 0 without a chief)."""
    cluster, task = cluster_spec()
    if not cluster or num_workers() == 1:
        return True
    kind, index = task.get("type"), int(task.get("index", 0))
    if "chief" in cluster:
        return kind == "chief"
    return kind == "worker" and index == 0


def worker_rank():
    """This process's index among the workers (0 when TF_CONFIG is unset); the chief is 0."""
    cluster, task = cluster_spec()
    if not cluster:
        return 0
    index = int(task.get("index", 0))
    if task.get("type") == "worker" and "chief" in cluster:
        return index + len(cluster["chief"])
    return index


def multi_worker_strategy():
    """``MultiWorkerMirroredStrategy`` over this worker's visible devices.

    A dead peer is noticed by TensorFlow's health check (a ping every 30 s,
    3 x 10 s tries: about a minute at most) or at once when its connection
    resets; ``KERASLLM_COLLECTIVE_TIMEOUT_S`` additionally bounds every
    collective (TensorFlow starts a thread per collective for it, so it is
    off by default). ``KERASLLM_REPLICAS_PER_WORKER`` (set by
    ``kerasllm launch``) is checked against the visible GPUs.
    """
    wanted = int(os.environ.get("KERASLLM_REPLICAS_PER_WORKER", "1"))
    gpus = tf.config.list_physical_devices("GPU")
    if wanted > max(len(gpus), 1):
        raise KerasLLMError(
            f"--replicas-per-worker {wanted} but this worker sees {len(gpus)} GPU(s); "
            f"a CPU worker runs 1 replica - pass --replicas-per-worker {max(len(gpus), 1)}.")
    timeout = os.environ.get("KERASLLM_COLLECTIVE_TIMEOUT_S")
    try:
        timeout = float(timeout) if timeout else None
    except ValueError:
        raise KerasLLMError(
            f"KERASLLM_COLLECTIVE_TIMEOUT_S={timeout!r} is not a number of seconds; fix or unset it.") from None
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def _split_cpu(replicas):
    """Expose ``replicas`` logical CPU devices; returns their names."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)])
    except RuntimeError:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) < replicas:
            raise KerasLLMError(
                f"--replicas {replicas}: TensorFlow was already initialised with "
                f"{len(existing)} CPU device(s); start a fresh process to change it.") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")[:replicas]]


def make_strategy(replicas=None):
    """Return the strategy for this process (see module docstring)."""
    if num_workers() > 1:
        if replicas not in (None, 1):
            raise KerasLLMError(
                f"--replicas {replicas} with a multi-worker TF_CONFIG is not supported; "
                f"run one replica per worker process (drop --replicas).")
        return multi_worker_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if replicas is None:
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if replicas < 1:
        raise KerasLLMError(f"--replicas must be >= 1, received {replicas}.")
    if gpus:
        if replicas > len(gpus):
            raise KerasLLMError(
                f"--replicas {replicas} but only {len(gpus)} GPU(s) are visible; "
                f"pass --replicas {len(gpus)} or fewer.")
        devices = [f"/gpu:{i}" for i in range(replicas)]
        return tf.distribute.MirroredStrategy(devices) if replicas > 1 \
            else tf.distribute.get_strategy()
    if replicas == 1:
        return tf.distribute.get_strategy()
    devices = _split_cpu(replicas)
    # NCCL all-reduce needs GPUs; reduce on one device for CPU replicas.
    return tf.distribute.MirroredStrategy(
        devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def global_batch_size(per_replica, strategy):
    """Global batch = per-replica batch x replicas in sync."""
    return per_replica * strategy.num_replicas_in_sync
