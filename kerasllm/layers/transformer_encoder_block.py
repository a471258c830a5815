"""One BERT transformer layer: self-attention and a feed-forward network, each
with a residual connection and LayerNorm (post-LN as in BERT, or pre-LN)."""
import keras
from keras import ops

from kerasllm.layers.activations import get_activation
from kerasllm.layers.dropout import Dropout
from kerasllm.layers.initializers import clone_initializer
from kerasllm.layers.multi_head_attention import MultiHeadAttention
from kerasllm.layers.plain_matmul import dense_2d, is_plain


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
        query_positions: optional (B, P) int. Return only these rows: every token
            is still attended to, but queries, residuals and the feed-forward
            network run for P rows, not T (a last layer whose outputs a loss
            reads at a few positions, as in MLM pretraining).

    Returns:
        (B, T, H) tensor, or (B, P, H) with ``query_positions``: the same values as
        the full output gathered at those positions.

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
        self.dropout_layer = Dropout(self.dropout, **common)
        self._activation_fn = get_activation(self.activation)
        self.built = True

    def _attention_branch(self, query, x, padding_mask, training):
        y = self.attention(query, x, padding_mask=padding_mask, training=training)  # (B, P, H)
        return self.dropout_layer(y, training=training)

    def _feed_forward_branch(self, x, training):
        if not is_plain([self.intermediate_dense, self.output_dense]):
            y = self._activation_fn(self.intermediate_dense(x))  # (B, T, I)
            return self.dropout_layer(self.output_dense(y), training=training)  # (B, T, H)
        # As 2-D MatMul + BiasAdd (+ GELU) that TensorFlow fuses (kerasllm.layers.plain_matmul).
        y = ops.reshape(x, (-1, x.shape[-1]))  # (B*T, H)
        y = self._activation_fn(dense_2d(self.intermediate_dense, y))  # (B*T, I)
        y = ops.reshape(dense_2d(self.output_dense, y), ops.shape(x))  # (B, T, H)
        return self.dropout_layer(y, training=training)

    def call(self, inputs, padding_mask=None, training=None, query_positions=None):
        x = inputs  # (B, T, H)

        def at_queries(t):  # (B, T, H) -> (B, P, H): the rows this call returns
            if query_positions is None:
                return t
            return ops.take_along_axis(t, ops.cast(query_positions, "int32")[:, :, None], axis=1)

        if self.norm_first:
            normed = self.attention_layer_norm(x)  # keys / values see every token
            y = at_queries(x) + self._attention_branch(
                at_queries(normed), normed, padding_mask, training)
            return y + self._feed_forward_branch(self.output_layer_norm(y), training)
        query = at_queries(x)  # (B, P, H)
        y = self.attention_layer_norm(
            query + self._attention_branch(query, x, padding_mask, training))
        return self.output_layer_norm(y + self._feed_forward_branch(y, training))

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
