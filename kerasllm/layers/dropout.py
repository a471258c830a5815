"""Dropout whose mask is drawn with the Philox generator, also under XLA.

``keras.layers.Dropout`` (TensorFlow backend) calls
``tf.nn.experimental.stateless_dropout`` with its default ``auto_select``
algorithm. Compiled with XLA on a CPU that choice lowers to a generator about
57× slower than Philox: a (32, 2, 128, 128) attention-probability mask took
455 ms against 8 ms on the 2-core development machine, which made a
jit-compiled bert_tiny training step twice as slow as the same step without
dropout (and made XLA lose to plain graph mode). Philox is the generator
TensorFlow's CPU kernels use without XLA, so this layer changes the speed of
compiled CPU steps, not the distribution of the masks. Everything else is keras' layer:
same arguments, seed generator, noise shape and config.
"""
import keras
import tensorflow as tf

_INT32_SEED_RANGE = 2**31 - 2  # keras folds its int64 seed state into int32 the same way


@keras.saving.register_keras_serializable(package="kerasllm")
class Dropout(keras.layers.Dropout):
    """``keras.layers.Dropout`` drawing its mask with ``rng_alg="philox"``.

    Args:
        rate: float in [0, 1]. Fraction of the inputs to drop (1 gives zeros).
        noise_shape: optional tuple; ``None`` entries take the input's size.
        seed: optional int seed of the layer's seed generator.
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
        return tf.nn.experimental.stateless_dropout(
            inputs, rate=self.rate, seed=seed, rng_alg="philox", noise_shape=noise_shape)
