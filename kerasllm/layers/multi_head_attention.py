"""Multi-head scaled dot-product attention: softmax(Q Kᵀ / √d_k) · V.

Written out here (instead of using ``keras.layers.MultiHeadAttention``) so
the masking convention is BERT's (a ``padding_mask`` of real tokens), the
softmax always runs in float32 under mixed precision, and the weight layout
maps one-to-one onto Hugging Face BERT's query / key / value / output dense
layers. Projection weights have exactly the shapes of
``keras.layers.MultiHeadAttention``'s, so weights copy across unchanged.
"""
import math

import keras
from keras import ops

from kerasllm.layers.dropout import Dropout
from kerasllm.layers.initializers import clone_initializer
from kerasllm.layers.plain_matmul import is_plain, matmul_bias

_NEG_INF = -1e9  # added to masked logits; the softmax runs in float32


@keras.saving.register_keras_serializable(package="kerasllm")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with Q/K/V and output projections.

    Args:
        num_heads: int. Number of attention heads.
        key_dim: int. Size of each head for query and key.
        value_dim: int. Size of each head for value; defaults to ``key_dim``.
        dropout: float. Dropout rate on the attention probabilities.
        use_bias: bool. Whether the projections have biases.
        kernel_initializer: initializer for the projection kernels.
        bias_initializer: initializer for the projection biases.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        query: (B, T_q, D_q) tensor.
        value: (B, T_kv, D_v) tensor.
        key: optional (B, T_kv, D_k) tensor; defaults to ``value``.
        padding_mask: optional (B, T_kv) int / bool, 1 / True = real token.
            Masked keys get zero attention.
        use_causal_mask: bool. Query i attends only to keys j <= i.
        return_attention_scores: bool. Also return the (B, heads, T_q, T_kv)
            attention probabilities.
        training: bool. Whether dropout is active.

    Returns:
        (B, T_q, D_q) tensor, or ``(output, scores)``.

    Example:
    >>> x = np.random.rand(2, 5, 16).astype("float32")
    >>> attention = MultiHeadAttention(num_heads=4, key_dim=4)
    >>> attention(x, x, padding_mask=np.ones((2, 5), "int32")).shape
    TensorShape([2, 5, 16])
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _projection(self, equation, output_shape, bias_axes, name):
        return keras.layers.EinsumDense(
            equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy, name=name)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        hidden_dim = query_shape[-1]
        heads = self.num_heads
        # Kernels (D, heads, head_dim), biases (heads, head_dim): keras' MHA layout.
        self.query_dense = self._projection("btd,dnh->btnh", (None, heads, self.key_dim),
                                            "nh", "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection("btd,dnh->btnh", (None, heads, self.key_dim),
                                          "nh", "key")
        self.key_dense.build(key_shape)
        self.value_dense = self._projection("btd,dnh->btnh", (None, heads, self.value_dim),
                                            "nh", "value")
        self.value_dense.build(value_shape)
        # Kernel (heads, value_dim, D), bias (D,).
        self.output_dense = self._projection("btnh,nhd->btd", (None, hidden_dim), "d",
                                             "attention_output")
        self.output_dense.build((query_shape[0], query_shape[1], heads, self.value_dim))
        self.dropout_layer = Dropout(self.dropout, dtype=self.dtype_policy)
        self.built = True

    def _attention_bias(self, query, value, padding_mask, use_causal_mask):
        """(B or 1, 1, T_q, T_kv) float32 bias: 0 where allowed, -1e9 where masked."""
        allowed = None
        if padding_mask is not None:
            allowed = ops.cast(padding_mask, "bool")[:, None, None, :]  # (B, 1, 1, T_kv)
        if use_causal_mask:
            rows = ops.arange(ops.shape(query)[1])[:, None]
            cols = ops.arange(ops.shape(value)[1])[None, :]
            causal = (rows >= cols)[None, None, :, :]  # (1, 1, T_q, T_kv)
            allowed = causal if allowed is None else ops.logical_and(allowed, causal)
        if allowed is None:
            return None
        return ops.where(allowed, 0.0, _NEG_INF)

    # The projections run as plain 2-D matmuls on the EinsumDense sublayers' own
    # kernels (``kerasllm.layers.plain_matmul`` says why and what it measured);
    # projections that read the same tensor (Q, K, V in self-attention) share one
    # matmul with their kernels side by side.

    def _heads(self, x, layers):
        """(B, T, D) -> one (B, T, N, H) per EinsumDense "btd,dnh->btnh" layer, one matmul."""
        if not is_plain(layers):
            return [layer(x) for layer in layers]
        dtype = self.compute_dtype
        kernels = [ops.cast(layer.kernel, dtype) for layer in layers]  # (D, N, H) each
        widths = [k.shape[1] * k.shape[2] for k in kernels]
        kernel = ops.concatenate([ops.reshape(k, (k.shape[0], w)) for k, w in zip(kernels, widths)],
                                 axis=1)  # (D, sum N*H)
        bias = ops.concatenate([ops.reshape(ops.cast(layer.bias, dtype), (w,))
                                for layer, w in zip(layers, widths)], axis=0) if self.use_bias else None
        y = matmul_bias(ops.reshape(x, (-1, kernel.shape[0])), kernel, bias)  # (B*T, sum N*H)
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        parts = [y] if len(widths) == 1 else ops.split(
            y, [sum(widths[:i + 1]) for i in range(len(widths) - 1)], axis=-1)
        return [ops.reshape(part, (batch, length, k.shape[1], k.shape[2]))
                for part, k in zip(parts, kernels)]  # (B, T, N, H) each

    def _merge_heads(self, context):
        """(B, T, N, Hv) -> (B, T, D) through the output EinsumDense's kernel, one matmul."""
        if not is_plain([self.output_dense]):
            return self.output_dense(context)
        dtype = self.compute_dtype
        heads, head_dim, hidden = self.output_dense.kernel.shape
        kernel = ops.reshape(ops.cast(self.output_dense.kernel, dtype), (heads * head_dim, hidden))
        bias = ops.cast(self.output_dense.bias, dtype) if self.use_bias else None
        y = matmul_bias(ops.reshape(context, (-1, heads * head_dim)), kernel, bias)  # (B*T, D)
        return ops.reshape(y, (ops.shape(context)[0], ops.shape(context)[1], hidden))

    def _project(self, query, key, value):
        """Q, K, V with the projections that read the same tensor fused."""
        if query is key and key is value:  # self-attention
            return self._heads(query, [self.query_dense, self.key_dense, self.value_dense])
        [q] = self._heads(query, [self.query_dense])
        if key is value:
            k, v = self._heads(key, [self.key_dense, self.value_dense])
        else:
            [k], [v] = self._heads(key, [self.key_dense]), self._heads(value, [self.value_dense])
        return q, k, v

    def call(self, query, value, key=None, padding_mask=None, use_causal_mask=False,
             return_attention_scores=False, training=None):
        key = value if key is None else key
        q, k, v = self._project(query, key, value)  # (B, T_q, N, Hk), (B, T_kv, N, Hk), (B, T_kv, N, Hv)
        q = ops.multiply(q, ops.cast(1.0 / math.sqrt(self.key_dim), q.dtype))
        logits = ops.einsum("bqnh,bknh->bnqk", q, k)  # (B, N, T_q, T_kv)
        logits = ops.cast(logits, "float32")  # softmax in float32 for fp16/bf16 stability
        bias = self._attention_bias(query, value, padding_mask, use_causal_mask)
        if bias is not None:
            logits = logits + bias
        scores = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        probs = self.dropout_layer(scores, training=training)
        context = ops.einsum("bnqk,bknh->bqnh", probs, v)  # (B, T_q, N, Hv)
        output = self._merge_heads(context)  # (B, T_q, D)
        if return_attention_scores:
            return output, scores
        return output

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        })
        return config
