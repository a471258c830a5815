"""Masked-LM head: logits over the vocabulary at the masked positions only."""
import keras
from keras import ops

from kerasllm.layers.activations import get_activation
from kerasllm.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="kerasllm")
class MaskedLMHead(keras.layers.Layer):
    """Gather → dense + activation → LayerNorm → (tied) vocabulary projection + bias.

    Only the ``P`` masked positions are projected onto the vocabulary, so the
    expensive ``H × V`` matmul costs ``B·P`` rows, not ``B·T``. Weights map
    onto Hugging Face ``cls.predictions``: ``dense`` (transform.dense),
    ``layer_norm`` (transform.LayerNorm), ``output_bias`` (bias); the decoder
    matrix is the tied word-embedding table.

    Args:
        vocabulary_size: int. Output vocabulary size.
        token_embedding: optional ``keras.layers.Embedding`` to tie the output
            projection to (BERT). Not part of ``get_config``: the model that
            owns both layers reconnects them. Without it the head owns an
            untied ``(H, V)`` kernel.
        activation: str. Activation of the transform ("gelu" as in BERT).
        layer_norm_epsilon: float. LayerNorm epsilon.
        kernel_initializer: initializer for the dense kernels.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        sequence_output: (B, T, H) tensor.
        mask_positions: (B, P) int tensor of positions to predict; None when
            ``sequence_output`` already holds just those rows (B, P, H).

    Returns:
        (B, P, vocabulary_size) float32 logits (float32 also under mixed precision).

    Example:
    >>> head = MaskedLMHead(vocabulary_size=100)
    >>> head(np.random.rand(2, 8, 16).astype("float32"), np.array([[1, 4], [2, 0]])).shape
    TensorShape([2, 2, 100])
    """

    def __init__(self, vocabulary_size, token_embedding=None, activation="gelu",
                 layer_norm_epsilon=1e-12, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        get_activation(activation)
        self.vocabulary_size = vocabulary_size
        self.token_embedding = token_embedding
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, sequence_output_shape, mask_positions_shape=None):
        hidden_dim = sequence_output_shape[-1]
        common = {"dtype": self.dtype_policy}
        self.dense = keras.layers.Dense(
            hidden_dim, kernel_initializer=clone_initializer(self.kernel_initializer),
            name="dense", **common)
        self.dense.build((None, None, hidden_dim))
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="layer_norm", **common)
        self.layer_norm.build((None, None, hidden_dim))
        if self.token_embedding is None:
            self.output_kernel = self.add_weight(
                shape=(hidden_dim, self.vocabulary_size), name="output_kernel",
                initializer=clone_initializer(self.kernel_initializer))
        self.output_bias = self.add_weight(
            shape=(self.vocabulary_size,), name="output_bias", initializer="zeros")
        self._activation_fn = get_activation(self.activation)
        self.built = True

    def call(self, sequence_output, mask_positions=None):
        x = sequence_output  # (B, P, H) when already gathered
        if mask_positions is not None:
            positions = ops.cast(mask_positions, "int32")[:, :, None]  # (B, P, 1)
            x = ops.take_along_axis(sequence_output, positions, axis=1)  # (B, P, H)
        x = self.layer_norm(self._activation_fn(self.dense(x)))  # (B, P, H)
        if self.token_embedding is None:
            kernel = self.output_kernel  # (H, V)
        else:
            kernel = ops.transpose(self.token_embedding.embeddings)  # (H, V)
        logits = ops.matmul(x, ops.cast(kernel, self.compute_dtype)) + self.output_bias
        return ops.cast(logits, "float32")  # (B, P, V)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
