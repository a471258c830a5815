"""Shared benchmark plumbing: the machine we run on, and how a figure is timed.

Every figure in the results is a ``Stat``: the median over repeated runs, with
the min and max beside it. Training speed is timed through ``model.fit`` (what
users run), one repeat being one ``fit`` call over a fixed number of steps:
the first step of each call (iterator start-up) and a separate warm-up call
(tracing / XLA compilation) are excluded.
"""
import dataclasses
import os
import platform
import re
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
if REPO_DIR not in sys.path:  # `python benchmarks/run.py` from anywhere
    sys.path.insert(0, REPO_DIR)

# Before any TensorFlow import: kerasllm's environment defaults (Keras backend, oneDNN),
# so every benchmark runs TensorFlow as a user's kerasllm job does.
import kerasllm  # noqa: E402,F401


@dataclasses.dataclass
class Stat:
    """Median of repeated measurements with their spread."""
    median: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values):
        values = [float(v) for v in values]
        if not values:
            raise ValueError("Stat.of() received no measurements; run at least one repeat.")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def scaled(self, factor):
        """The same runs expressed in another unit (``factor`` > 0)."""
        return Stat(self.median * factor, self.min * factor, self.max * factor, self.n)

    def inverse(self, numerator=1.0):
        """``numerator / x`` for each run, e.g. step time -> steps per second."""
        return Stat(numerator / self.median, numerator / self.max, numerator / self.min, self.n)

    def to_json(self):
        return dataclasses.asdict(self)


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")  # what sets TF's kernels and bf16 default


def _cpu_isa():
    """The vector extensions among ``_ISA_FLAGS`` this CPU has: two hosts with one model name
    ("AMD EPYC") can differ here, and with them oneDNN, bfloat16 and every timing."""
    from kerasllm.training.fast_defaults import cpu_flags
    return [flag for flag in _ISA_FLAGS if flag in cpu_flags()]


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def gpu_names():
    import tensorflow as tf
    names = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        names.append(details.get("device_name", device.name))
    return names


def _onednn_enabled(tf):
    """Whether TensorFlow runs its oneDNN CPU kernels (None when it cannot say)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def machine_info():
    """What the numbers were measured on; ``label`` names the results files."""
    import keras
    import tensorflow as tf
    try:
        import keras_hub
        hub_version = keras_hub.__version__
    except ImportError:  # the comparisons need it, the rest does not
        hub_version = None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = _cpu_model()
    gpus = gpu_names()
    label = _slug(gpus[0]) if gpus else f"cpu-{cores}core-{_slug(cpu)}"
    return {
        "label": label,
        "cpu_model": cpu,
        "cpu_cores": cores,
        "cpu_isa": _cpu_isa(),
        "gpus": gpus,
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_hub": hub_version,
        "tensorflow_onednn": _onednn_enabled(tf),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def time_calls(fn, repeats, warmup=1):
    """Seconds per call of ``fn()`` over ``repeats`` runs after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _step_clock():
    import keras

    class StepClock(keras.callbacks.Callback):
        """Wall clock at the end of every training step (forces the step to finish)."""

        def __init__(self):
            super().__init__()
            self.ends = []

        def on_train_batch_end(self, batch, logs=None):
            if logs and "loss" in logs:
                float(logs["loss"])  # wait for the step's result before reading the clock
            self.ends.append(time.perf_counter())

    return StepClock()


class FitTimer:
    """Times training steps of one compiled model on one dataset.

    ``warm_up(steps)`` runs the tracing / compilation call; each ``repeat(steps)``
    is one ``fit`` call of ``steps + 1`` steps whose first step is not timed, and
    appends its seconds per step to ``self.step_times``.
    """

    def __init__(self, model, dataset):
        self.model = model
        self.dataset = dataset
        self.step_times = []

    def _fit(self, steps):
        clock = _step_clock()
        self.model.fit(self.dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False,
                       callbacks=[clock])
        return clock.ends

    def warm_up(self, steps=2):
        start = time.perf_counter()
        self._fit(max(1, steps))
        return time.perf_counter() - start

    def repeat(self, steps):
        ends = self._fit(steps + 1)
        seconds = (ends[-1] - ends[0]) / steps
        self.step_times.append(seconds)
        return seconds

    def stat(self):
        return Stat.of(self.step_times)


def alternate(timers, repeats, steps):
    """Round-robin ``repeats`` timed runs over ``timers`` (dict name -> FitTimer)
    so that slow drifts of the machine hit every contender alike."""
    for _ in range(repeats):
        for timer in timers.values():
            timer.repeat(steps)
    return {name: timer.stat() for name, timer in timers.items()}


def best_setting(build, dataset, settings, warmup=None, jit_options=None, timer_class=None):
    """Probe each XLA setting of ``settings.jit_options``; keep the faster model.

    ``build(jit_compile)`` returns a compiled model; ``jit_options`` overrides
    ``settings.jit_options`` (e.g. one setting carried over). Returns (FitTimer of the
    winner, with ``.jit_compile`` set and no recorded repeats; {jit: s/step}).
    ``timer_class`` replaces FitTimer (e.g. ``torch_timing.TorchTimer``, whose options are
    PyTorch modes such as "eager" / "compile").
    """
    import gc
    probes, timers, failure = {}, {}, None
    for jit in jit_options or settings.jit_options:
        try:
            timer = (timer_class or FitTimer)(build(jit), dataset)
            first = timer.warm_up(settings.warmup if warmup is None else warmup)
            probes[jit] = timer.repeat(settings.probe_steps)
            timers[jit] = timer
            log(f"  jit_compile={jit}: first fit {first:.1f} s, then {probes[jit]:.3f} s/step")
        except Exception as exc:  # e.g. an op XLA cannot compile: the other setting may work
            failure = exc
            log(f"  jit_compile={jit} failed: {type(exc).__name__}: {str(exc)[:200]}")
    if not probes:
        raise failure
    best = min(probes, key=probes.get)
    winner = timers.pop(best)
    timers.clear()  # drop the slower model before the real runs
    gc.collect()
    winner.step_times = []  # the probe is not one of the reported repeats
    winner.jit_compile = best
    return winner, probes


def xla_text(jit_compile, probes):
    """'on (probe off 120 ms, on 95 ms)' for the tables."""
    detail = ", ".join(f"{'on' if jit else 'off'} {seconds * 1e3:.0f} ms"
                       for jit, seconds in probes.items())
    return f"{'on' if jit_compile else 'off'} (probe {detail})"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
