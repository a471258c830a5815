"""The fastest settings this machine allows, for options the user left unset.

Measured with ``benchmarks/finetune_minilm.py`` (all-MiniLM-L6-v2, batch 32,
1,280 short texts x 3 epochs, 2 CPU cores, seconds per step after start-up;
"+ compile" is what XLA's compilations, one per batch width, add per step
over the 120-step job):

==========================  =====================  =========================
setting                     Intel Xeon, AMX-BF16   AMD EPYC, AVX2 only
                            (shared host, load 3)  (quiet host, 3 repeats)
==========================  =====================  =========================
float32, no XLA             0.57                   0.80-0.81
float32, XLA                0.27                   0.76-0.85 (+ 0.45-0.97)
mixed_bfloat16, no XLA      0.27                   (no bfloat16 units)
mixed_bfloat16, XLA         0.51                   -
==========================  =====================  =========================

So where the hardware computes bfloat16 natively (a CPU with AMX-BF16 or
AVX512-BF16, a GPU of compute capability 8.0 or newer) the default precision
is ``mixed_bfloat16``. On a CPU XLA is off by default: with bfloat16 it is the
slow pair (XLA's CPU code does not use AMX), and in float32 on the quiet AVX2
host its steps were no faster while its compilations cost 60-115 s (the Xeon's
float32 figures come from a loaded host, where fewer, fused ops suffer less
from contention). An explicit ``--jit`` on a CPU keeps float32. On a single
GPU XLA is on. XLA is only picked on a single device in one process: a
compiled step under MirroredStrategy over logical CPU devices fails. Keras
turns XLA off under op determinism, so an explicit ``--deterministic`` means
no XLA.
"""
import functools

_CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def single_device(options):
    """Whether the job runs on one device in one process (no distribution strategy)."""
    import tensorflow as tf

    from kerasllm.training.strategy import num_workers

    replicas = options.get("replicas")
    if num_workers() > 1 or replicas not in (None, 1):
        return False
    return replicas == 1 or len(tf.config.list_physical_devices("GPU")) <= 1


@functools.lru_cache(maxsize=1)
def cpu_flags():
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is none: not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            return tuple(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return ()


@functools.lru_cache(maxsize=1)
def native_bf16():
    """``(device, has_bf16, why)``: the device jobs run on and whether it computes bfloat16 natively."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        return "gpu", bool(capability and capability >= (8, 0)), f"GPU compute capability {capability}"
    found = [flag for flag in _CPU_BF16_FLAGS if flag in cpu_flags()]
    return "cpu", bool(found), f"CPU flags {', '.join(found)}" if found else "CPU without bfloat16 units"


def choose(options):
    """Fill ``precision`` / ``jit`` when None; return the one-line start-up summary."""
    device, bf16, why = native_bf16()
    said = []
    if options.get("precision") is None:
        xla_on_cpu = device == "cpu" and options.get("jit") is True  # XLA's CPU bf16 is the slow pair
        options["precision"] = "mixed_bfloat16" if bf16 and not xla_on_cpu else "float32"
        reason = "--jit on a CPU" if bf16 and xla_on_cpu else why
        said.append(f"precision {options['precision']} ({reason}; --precision to choose)")
    if options.get("jit") is None:
        if options.get("deterministic"):
            options["jit"], reason = False, "--deterministic"
        elif not single_device(options):
            options["jit"], reason = False, "several replicas / workers"
        else:
            options["jit"] = device == "gpu"
            reason = ("single GPU" if options["jit"] else
                      "on a CPU its steps are no faster and each batch width compiles; --jit to choose")
        said.append(f"XLA {'on' if options['jit'] else 'off'} ({reason})")
    return "defaults: " + "; ".join(said) if said else ""
