"""Projection layers' weights run as plain 2-D ``MatMul`` + ``BiasAdd``.

Why this exists: TensorFlow's graph optimizer (grappler's remapper) fuses
``MatMul`` → ``BiasAdd`` into one kernel, and with oneDNN also a following exact
GELU (``kerasllm.layers.activations.gelu``), but only in exactly that form.
Keras' ``Dense`` on a (B, T, D) input runs ``tensordot`` (Reshape, MatMul,
Reshape) and adds its bias after the reshape, and ``EinsumDense``
("btd,dnh->btnh") runs ``Einsum`` / a broadcast ``BatchMatMulV2``: neither
fuses, and the einsum ran at about half a ``MatMul``'s speed on the same FLOPs.
Profiled on all-MiniLM-L6-v2 (20 BBC batches of 32, 2-core AMD EPYC): attention
5.4 -> 3.4 s with its projections as matmuls; the feed-forward's first layer +
GELU 19.6 -> 15.1 ms per call once ``MatMul + BiasAdd + GELU`` fuse.

The layers that use this keep their ``Dense`` / ``EinsumDense`` sublayers (weights,
names, checkpoints and LoRA's ``.kernel`` unchanged) and read their kernels;
quantized sublayers keep their own call (``is_plain``).
"""
import tensorflow as tf  # tf.nn.bias_add: keras.ops has no BiasAdd, and only it fuses
from keras import ops


def is_plain(layers):
    """True when no layer in ``layers`` is quantized (their kernels are plain float weights)."""
    return all(getattr(layer, "quantization_mode", None) is None for layer in layers)


def matmul_bias(x, kernel, bias=None):
    """(M, K) @ (K, N) (+ bias (N,)) -> (M, N), as the ``MatMul`` + ``BiasAdd`` grappler fuses."""
    y = ops.matmul(x, kernel)  # (M, N)
    return y if bias is None else tf.nn.bias_add(y, bias)


def dense_2d(layer, x):
    """(M, K) -> (M, N) through a plain ``keras.layers.Dense``'s kernel and bias, in its compute dtype."""
    dtype = layer.compute_dtype
    bias = None if layer.bias is None else ops.cast(layer.bias, dtype)
    return matmul_bias(x, ops.cast(layer.kernel, dtype), bias)
