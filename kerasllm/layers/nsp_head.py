"""Next-sentence (or sentence-order) prediction head: 2 logits per pair."""
import keras
from keras import ops

from kerasllm.layers.cls_pooler import CLSPooler
from kerasllm.layers.initializers import clone_initializer


@keras.saving.register_keras_serializable(package="kerasllm")
class NSPHead(keras.layers.Layer):
    """tanh pooler on [CLS] → dense → 2 logits.

    The BERT models pass the encoder's ``pooled_output`` and use
    ``use_pooler=False``, so the pooler lives in the encoder as in Hugging
    Face (``bert.pooler`` + ``cls.seq_relationship`` = this head's ``dense``).
    With ``use_pooler=True`` the head takes the sequence output and owns its
    own ``CLSPooler`` (for encoders without a pooler).

    Label convention (original BERT): 0 = segment B really follows A, 1 = random.

    Args:
        use_pooler: bool. True: input is (B, T, H), pooled here. False: input
            is an already pooled (B, H) vector.
        kernel_initializer: initializer for the dense kernels.
        **kwargs: base layer arguments (``name``, ``dtype``, ...).

    Call arguments:
        inputs: (B, H) pooled vectors, or (B, T, H) when ``use_pooler``.

    Returns:
        (B, 2) float32 logits.

    Example:
    >>> NSPHead(use_pooler=True)(np.random.rand(2, 8, 16).astype("float32")).shape
    TensorShape([2, 2])
    """

    def __init__(self, use_pooler=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.use_pooler = use_pooler
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        if self.use_pooler:
            self.pooler = CLSPooler(kernel_initializer=clone_initializer(self.kernel_initializer),
                                    name="pooler", dtype=self.dtype_policy)
            self.pooler.build(inputs_shape)
        self.dense = keras.layers.Dense(
            2, kernel_initializer=clone_initializer(self.kernel_initializer), name="dense",
            dtype=self.dtype_policy)
        self.dense.build((None, hidden_dim))
        self.built = True

    def call(self, inputs):
        pooled = self.pooler(inputs) if self.use_pooler else inputs  # (B, H)
        return ops.cast(self.dense(pooled), "float32")  # (B, 2)

    def get_config(self):
        config = super().get_config()
        config.update({
            "use_pooler": self.use_pooler,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
