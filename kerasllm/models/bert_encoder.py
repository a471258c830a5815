"""The BERT encoder (Devlin et al. 2019): embeddings → N transformer layers → pooler."""
import keras
from keras import ops

from kerasllm.layers import BertEmbeddings, CLSPooler, TransformerEncoderBlock
from kerasllm.layers.initializers import bert_kernel_initializer
from kerasllm.models.preset_mixin import PresetMixin


def bert_inputs(with_mask_positions=False):
    """The dict of ``keras.Input``s every BERT model takes (int32, any batch / length)."""
    names = ["token_ids", "segment_ids", "padding_mask"]
    names += ["mask_positions"] if with_mask_positions else []
    return {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in names}


@keras.saving.register_keras_serializable(package="kerasllm")
class BertEncoder(PresetMixin, keras.Model):
    """BERT encoder as a functional ``keras.Model``.

    Args:
        vocabulary_size: int. Number of token ids.
        num_layers: int. Transformer layers.
        num_heads: int. Attention heads per layer.
        hidden_dim: int. Hidden size H (divisible by ``num_heads``).
        intermediate_dim: int. Feed-forward size (4 × H in BERT).
        max_sequence_length: int. Length of the position table.
        num_segments: int. Segment (token type) ids.
        dropout: float. Dropout everywhere BERT has it.
        activation: str. "gelu" (exact), "gelu_approximate" or "relu".
        layer_norm_epsilon: float. LayerNorm epsilon.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (1 = real
    token), each (B, T) int32.

    Outputs: dict ``sequence_output`` (B, T, H) and ``pooled_output`` (B, H),
    float32 (also under mixed precision).

    Attributes: ``embeddings`` (BertEmbeddings; ``embeddings.token_embedding``
    holds the tied table), ``transformer_layers`` (list), ``pooler`` (CLSPooler).

    Example:
    >>> encoder = BertEncoder.from_preset("bert_tiny", vocabulary_size=100)
    >>> x = {"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
    ...      "padding_mask": np.ones((2, 8), "int32")}
    >>> encoder(x)["pooled_output"].shape
    TensorShape([2, 128])
    """

    def __init__(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                 max_sequence_length=512, num_segments=2, dropout=0.1, activation="gelu",
                 layer_norm_epsilon=1e-12, **kwargs):
        # === Layers ===
        self.embeddings = BertEmbeddings(
            vocabulary_size, hidden_dim, max_sequence_length, num_segments, dropout,
            layer_norm_epsilon, embeddings_initializer=bert_kernel_initializer(),
            name="embeddings")
        self.transformer_layers = [
            TransformerEncoderBlock(
                num_heads, intermediate_dim, dropout=dropout, activation=activation,
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=bert_kernel_initializer(), name=f"transformer_layer_{i}")
            for i in range(num_layers)
        ]
        self.pooler = CLSPooler(kernel_initializer=bert_kernel_initializer(), name="pooler")
        # === Functional model ===
        inputs = bert_inputs()
        x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])  # (B, T, H)
        for layer in self.transformer_layers:
            x = layer(x, padding_mask=inputs["padding_mask"])  # (B, T, H)
        pooled = self.pooler(x)  # (B, H)
        outputs = {"sequence_output": ops.cast(x, "float32"),
                   "pooled_output": ops.cast(pooled, "float32")}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon

    def encode_at(self, inputs, positions):
        """Hidden states (B, P, H) float32 at ``positions`` (B, P) only, and the pooled output.

        Equals ``self(inputs)["sequence_output"]`` gathered at ``positions``, but the
        last layer computes queries, residuals and feed-forward for those P rows only
        (keys and values still cover every token): a pretraining loss reads 20 of 128
        positions, so this skips most of one layer's work. ``positions[:, 0]`` must be
        0 ([CLS]) for the pooled output to be BERT's. Use it on symbolic inputs to build
        a task model; the layers (and weights) are this encoder's own.
        """
        x = self.embeddings(inputs["token_ids"], inputs["segment_ids"])  # (B, T, H)
        *layers, last = self.transformer_layers
        for layer in layers:
            x = layer(x, padding_mask=inputs["padding_mask"])  # (B, T, H)
        x = last(x, padding_mask=inputs["padding_mask"], query_positions=positions)  # (B, P, H)
        return ops.cast(x, "float32"), ops.cast(self.pooler(x), "float32")

    def get_config(self):
        # Not chaining to Functional.get_config: that is the graph, not our arguments.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "dropout": self.dropout,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def _from_model_config(cls, model_kwargs, **kwargs):
        return cls(**model_kwargs, **kwargs)
