"""One BERT transformer layer: self-attention and a feed-forward network, each
with a residual connection and LayerNorm (post-LN as in BERT, or pre-LN)."""
import keras

from kerasllm.layers.activations import get_activation
from kerasllm.layers.initializers import clone_initializer
from kerasllm.layers.multi_head_attention import MultiHeadAttention


@keras.saving.register_keras_serializable(package="kerasllm")
class TransformerEncoderBlock(keras.layers.Layer):
    """Transformer encoder layer (Vaswani et al. 2017; BERT's post-LN by default).

    Sublayers map one-to-one onto a Hugging Face ``BertLayer``: ``attention``
    (query / key / value / attention_output), ``attention_layer_norm``,
    ``intermediate_dense``, ``output_dense`` and ``output_layer_norm``.

    Args:
        num_heads: int. Attention heads; must divide the hidden size.
        intermediate_dim: int. Hidden size of the feed-forward network.
        dropout: float. Dropout on attention probabilities and sublayer outputs.
        activation: str. "gelu" (exact erf GELU), "gelu_approximate" (tanh), "relu".
        layer_norm_epsilon: float. LayerNorm epsilon.
        norm_first: bool. False: ``LN(x + f(x))`` (BERT). True: ``x + f(LN(x))``.
        kernel_initializer: initializer for all dense kernels.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: (B, T, H) float tensor.
        padding_mask: optional (B, T) int / bool, 1 / True = real token.
        training: bool. Whether dropout is active.

    Returns:
        (B, T, H) tensor.

    Example:
    >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=64)
    >>> x = np.random.rand(2, 8, 16).astype("float32")
    >>> block(x, padding_mask=np.ones((2, 8), "int32")).shape
    TensorShape([2, 8, 16])
    """

    def __init__(self, num_heads, intermediate_dim, dropout=0.1, activation="gelu",
                 layer_norm_epsilon=1e-12, norm_first=False,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        get_activation(activation)  # fail early on a bad name
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.norm_first = norm_first
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        hidden_dim = input_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(f"hidden size {hidden_dim} is not divisible by num_heads "
                             f"{self.num_heads}; pick sizes where hidden % num_heads == 0.")
        common = {"dtype": self.dtype_policy}
        self.attention = MultiHeadAttention(
            self.num_heads, hidden_dim // self.num_heads, dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            name="attention", **common)
        self.attention.build(input_shape, input_shape)
        self.attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="attention_layer_norm", **common)
        self.attention_layer_norm.build(input_shape)
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_dim, kernel_initializer=clone_initializer(self.kernel_initializer),
            name="intermediate_dense", **common)
        self.intermediate_dense.build(input_shape)
        self.output_dense = keras.layers.Dense(
            hidden_dim, kernel_initializer=clone_initializer(self.kernel_initializer),
            name="output_dense", **common)
        self.output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.output_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="output_layer_norm", **common)
        self.output_layer_norm.build(input_shape)
        self.dropout_layer = keras.layers.Dropout(self.dropout, **common)
        self._activation_fn = get_activation(self.activation)
        self.built = True

    def _attention_branch(self, x, padding_mask, training):
        y = self.attention(x, x, padding_mask=padding_mask, training=training)  # (B, T, H)
        return self.dropout_layer(y, training=training)

    def _feed_forward_branch(self, x, training):
        y = self._activation_fn(self.intermediate_dense(x))  # (B, T, I)
        return self.dropout_layer(self.output_dense(y), training=training)  # (B, T, H)

    def call(self, inputs, padding_mask=None, training=None):
        x = inputs  # (B, T, H)
        if self.norm_first:
            x = x + self._attention_branch(self.attention_layer_norm(x), padding_mask, training)
            return x + self._feed_forward_branch(self.output_layer_norm(x), training)
        x = self.attention_layer_norm(x + self._attention_branch(x, padding_mask, training))
        return self.output_layer_norm(x + self._feed_forward_branch(x, training))

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "norm_first": self.norm_first,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
