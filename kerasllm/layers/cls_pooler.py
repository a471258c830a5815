"""BERT's pooler: a tanh dense layer on the first ([CLS]) position."""
import keras

from kerasllm.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="kerasllm")
class CLSPooler(keras.layers.Layer):
    """``tanh(W · x[:, 0] + b)``: one vector per sequence from its [CLS] token.

    Maps onto Hugging Face ``BertPooler`` (``dense`` = pooler.dense).

    Args:
        kernel_initializer: initializer for the dense kernel.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        sequence_output: (B, T, H) tensor.

    Returns:
        (B, H) tensor.

    Example:
    >>> CLSPooler()(np.random.rand(2, 8, 16).astype("float32")).shape
    TensorShape([2, 16])
    """

    def __init__(self, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, sequence_output_shape):
        self.dense = keras.layers.Dense(
            sequence_output_shape[-1], activation="tanh", name="dense", dtype=self.dtype_policy,
            kernel_initializer=clone_initializer(self.kernel_initializer))
        self.dense.build((sequence_output_shape[0], sequence_output_shape[-1]))
        self.built = True

    def call(self, sequence_output):
        return self.dense(sequence_output[:, 0, :])  # (B, H)

    def get_config(self):
        config = super().get_config()
        config["kernel_initializer"] = keras.initializers.serialize(self.kernel_initializer)
        return config
