"""Dropout whose mask is a counter hash that XLA fuses into the masked op.

``keras.layers.Dropout`` (TensorFlow backend) calls
``tf.nn.experimental.stateless_dropout`` with its default ``auto_select``
algorithm. Compiled with XLA on a CPU that lowers to a generator about 57×
slower than Philox (a (32, 2, 128, 128) attention-probability mask: 455 ms
against 8 ms on the 2-core development machine). Philox itself still cost
~13 % of a compiled bert_small MLM+NSP step there (0.746 s against 0.629 s
with dropout off, batch 16 × 128): XLA materialises its 4×32-bit blocks in
buffers of their own.

So the default generator here is not one of TensorFlow's: each element's
32 random bits are ``lowbias32(lowbias32(i · φ + k₀) ⊕ k₁)`` — element index
``i``, the seed ``(k₀, k₁)``, and Chris Wellons' bijective 32-bit integer hash
(two xor-shift / multiply rounds). It is a handful of elementwise integer ops,
which XLA fuses with the comparison and the multiply into the consumer, so no
mask buffer exists: the same step took 0.652 s (dropout's cost down from
~13 % to ~4 %); without XLA it is as fast as the Philox kernel (0.738 against
0.759 s). The bits are uniform and uncorrelated enough for dropout (tested:
drop rate, neighbouring elements, consecutive calls) but are not a
general-purpose or cryptographic generator; ``generator="philox"`` gives
TensorFlow's Philox masks instead. Element indices are int32, so one mask holds
at most 2³¹ elements.
"""
import keras
import tensorflow as tf

GENERATORS = ("hash", "philox")
_INT32_SEED_RANGE = 2**31 - 2  # keras folds its int64 seed state into int32 the same way
_GOLDEN = 0x9E3779B9           # 2³² / φ: spreads consecutive indices over the 32 bits
_MULTIPLIERS = (0x7FEB352D, 0x846CA68B)
_SHIFTS = (16, 15, 16)


def _lowbias32(x):
    """Wellons' ``lowbias32``: a bijection of uint32 with strong avalanche."""
    shift = lambda v, s: tf.bitwise.bitwise_xor(v, tf.bitwise.right_shift(v, tf.constant(s, tf.uint32)))
    x = shift(x, _SHIFTS[0]) * tf.constant(_MULTIPLIERS[0], tf.uint32)
    x = shift(x, _SHIFTS[1]) * tf.constant(_MULTIPLIERS[1], tf.uint32)
    return shift(x, _SHIFTS[2])


def hash_random_bits(shape, seed):
    """Uniform uint32 tensor of ``shape`` from an integer ``seed`` of shape (2,).

    The same ``(shape, seed)`` always gives the same bits, eager or compiled.
    """
    key = tf.cast(seed, tf.uint32)                                   # low 32 bits of each part
    index = tf.bitcast(tf.range(tf.reduce_prod(shape), dtype=tf.int32), tf.uint32)  # (N,)
    bits = _lowbias32(index * tf.constant(_GOLDEN, tf.uint32) + key[0])
    bits = _lowbias32(tf.bitwise.bitwise_xor(bits, key[1]))
    return tf.reshape(bits, shape)


@keras.saving.register_keras_serializable(package="kerasllm")
class Dropout(keras.layers.Dropout):
    """``keras.layers.Dropout`` with a mask generator that is cheap under XLA.

    Args:
        rate: float in [0, 1]. Fraction of the inputs to drop (1 gives zeros).
        noise_shape: optional tuple; ``None`` entries take the input's size.
        seed: optional int seed of the layer's seed generator.
        generator: ``"hash"`` (default; the integer hash of the module
            docstring) or ``"philox"`` (TensorFlow's Philox).
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: a tensor of any shape.
        training: bool. Dropout is applied only when True.

    Returns:
        ``inputs`` with dropped entries zeroed and the rest scaled by
        ``1 / (1 - rate)``; ``inputs`` unchanged outside training.

    Example:
    >>> layer = Dropout(0.5, seed=1)
    >>> layer(np.ones((2, 4), "float32"), training=True)  # zeros and 2.0s
    """

    def __init__(self, rate, noise_shape=None, seed=None, generator="hash", **kwargs):
        if generator not in GENERATORS:
            raise ValueError(f"Dropout generator must be one of {GENERATORS}; "
                             f"received generator={generator!r}.")
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.generator = generator

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return tf.zeros_like(inputs)
        seed = tf.cast(tf.math.floormod(self.seed_generator.next(), _INT32_SEED_RANGE), "int32")
        noise_shape = tf.shape(inputs)
        if self.noise_shape is not None:
            noise_shape = [noise_shape[i] if size is None else size
                           for i, size in enumerate(self.noise_shape)]
        if self.generator == "philox":
            return tf.nn.experimental.stateless_dropout(
                inputs, rate=self.rate, seed=seed, rng_alg="philox", noise_shape=noise_shape)
        threshold = min(round(self.rate * 2**32), 2**32 - 1)        # P(bits < threshold) = rate
        keep = hash_random_bits(noise_shape, seed) >= tf.constant(threshold, tf.uint32)
        scale = tf.cast(1.0 / (1.0 - self.rate), inputs.dtype)
        return tf.where(keep, inputs * scale, tf.zeros_like(inputs))  # keep broadcasts to inputs

    def get_config(self):
        return {**super().get_config(), "generator": self.generator}
