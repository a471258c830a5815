"""Mixed precision and XLA switches.

Models keep their outputs (and therefore losses) in float32 under every
policy; Keras wraps the optimizer in a LossScaleOptimizer for mixed_float16.
"""
import keras

from kerasllm.errors import KerasLLMError

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


def set_precision(name):
    """Set the global Keras dtype policy (before building the model)."""
    if name not in POLICIES:
        raise KerasLLMError(
            f"--precision must be one of {', '.join(POLICIES)}, received {name!r}.")
    keras.mixed_precision.set_global_policy(name)
    return name


def compile_options(jit):
    """Keyword arguments for ``model.compile`` that switch XLA on or off."""
    return {"jit_compile": bool(jit)}
