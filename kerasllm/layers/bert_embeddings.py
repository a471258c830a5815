"""BERT input embeddings: token + learned position + segment, then LayerNorm and dropout."""
import keras
from keras import ops

from kerasllm.layers.dropout import Dropout
from kerasllm.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="kerasllm")
class BertEmbeddings(keras.layers.Layer):
    """Sum of token, position and segment embeddings, normalised.

    Weights map onto Hugging Face ``BertEmbeddings``: ``token_embedding``
    (word_embeddings), ``position_embeddings`` (position_embeddings),
    ``segment_embedding`` (token_type_embeddings), ``layer_norm`` (LayerNorm).
    ``token_embedding`` is a ``keras.layers.Embedding`` whose ``embeddings``
    table a tied output head (``MaskedLMHead``) reuses.

    Args:
        vocabulary_size: int. Number of token ids.
        hidden_dim: int. Embedding size.
        max_sequence_length: int. Longest sequence the position table covers.
        num_segments: int. Number of segment (token type) ids.
        dropout: float. Dropout after the LayerNorm.
        layer_norm_epsilon: float. LayerNorm epsilon.
        embeddings_initializer: initializer for the three tables.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        token_ids: (B, T) int tensor, T <= max_sequence_length.
        segment_ids: optional (B, T) int tensor; zeros when omitted.
        training: bool. Whether dropout is active.

    Returns:
        (B, T, hidden_dim) tensor.

    Example:
    >>> embeddings = BertEmbeddings(vocabulary_size=100, hidden_dim=16, max_sequence_length=32)
    >>> embeddings(np.array([[2, 7, 3]]), np.array([[0, 0, 1]])).shape
    TensorShape([1, 3, 16])
    """

    def __init__(self, vocabulary_size, hidden_dim, max_sequence_length, num_segments=2,
                 dropout=0.1, layer_norm_epsilon=1e-12,
                 embeddings_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, token_ids_shape, segment_ids_shape=None):
        common = {"dtype": self.dtype_policy}
        self.token_embedding = keras.layers.Embedding(
            self.vocabulary_size, self.hidden_dim, name="token_embedding",
            embeddings_initializer=clone_initializer(self.embeddings_initializer), **common)
        self.token_embedding.build(token_ids_shape)
        self.segment_embedding = keras.layers.Embedding(
            self.num_segments, self.hidden_dim, name="segment_embedding",
            embeddings_initializer=clone_initializer(self.embeddings_initializer), **common)
        self.segment_embedding.build(token_ids_shape)
        self.position_embeddings = self.add_weight(
            shape=(self.max_sequence_length, self.hidden_dim), name="position_embeddings",
            initializer=clone_initializer(self.embeddings_initializer))
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, name="layer_norm", **common)
        self.layer_norm.build(tuple(token_ids_shape) + (self.hidden_dim,))
        self.dropout_layer = Dropout(self.dropout, **common)
        self.built = True

    def call(self, token_ids, segment_ids=None, training=None):
        if segment_ids is None:
            segment_ids = ops.zeros_like(token_ids)
        length = ops.shape(token_ids)[1]
        if isinstance(length, int) and length > self.max_sequence_length:
            raise ValueError(
                f"Received sequences of length {length}, longer than max_sequence_length="
                f"{self.max_sequence_length}; truncate the inputs or build the model with a "
                "larger max_sequence_length.")
        positions = ops.cast(self.position_embeddings[:length], self.compute_dtype)  # (T, H)
        x = self.token_embedding(token_ids) + self.segment_embedding(segment_ids)  # (B, T, H)
        x = self.layer_norm(x + positions[None, :, :])
        return self.dropout_layer(x, training=training)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        })
        return config
