"""Sequence classification head: dropout → dense → class logits."""
import keras
from keras import ops

from kerasllm.layers.dropout import Dropout
from kerasllm.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="kerasllm")
class ClassificationHead(keras.layers.Layer):
    """Class logits from a pooled sentence vector (Hugging Face
    ``BertForSequenceClassification``: dropout, then ``classifier``) or from every
    token's vector (``BertForTokenClassification``: the same two steps per token).

    Args:
        num_classes: int. Number of classes.
        dropout: float. Dropout on the pooled vector.
        kernel_initializer: initializer for the dense kernel.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        pooled_output: (B, H) tensor (the encoder's ``pooled_output``), or (B, T, H)
            (its ``sequence_output``) for per-token logits.
        training: bool. Whether dropout is active.

    Returns:
        (B, num_classes) float32 logits ((B, T, num_classes) for (B, T, H) input).

    Example:
    >>> ClassificationHead(num_classes=3)(np.random.rand(2, 16).astype("float32")).shape
    TensorShape([2, 3])
    """

    def __init__(self, num_classes, dropout=0.1, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, pooled_output_shape):
        self.dropout_layer = Dropout(self.dropout, dtype=self.dtype_policy)
        self.dense = keras.layers.Dense(
            self.num_classes, kernel_initializer=clone_initializer(self.kernel_initializer),
            name="dense", dtype=self.dtype_policy)
        self.dense.build(pooled_output_shape)
        self.built = True

    def call(self, pooled_output, training=None):
        x = self.dropout_layer(pooled_output, training=training)  # (B, H)
        return ops.cast(self.dense(x), "float32")  # (B, C)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
