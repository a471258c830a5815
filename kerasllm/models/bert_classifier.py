"""BERT text classifier: single texts or text pairs → class logits."""
import keras

from kerasllm.layers import ClassificationHead
from kerasllm.layers.initializers import bert_kernel_initializer
from kerasllm.models.bert_encoder import bert_inputs
from kerasllm.models.bert_task import BertTask, encoder_inputs


@keras.saving.register_keras_serializable(package="kerasllm")
class BertClassifier(BertTask):
    """Encoder pooled output → dropout → dense → ``num_classes`` logits.

    Args:
        encoder: a ``BertEncoder``.
        num_classes: int. Number of classes.
        dropout: float. Dropout before the classifier.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) int32;
    for text pairs the segment ids mark segment B with 1.
    Outputs: (B, num_classes) float32 logits.

    ``from_preset(name, num_classes=..., **overrides)``: overrides naming a
    ``BertConfig`` field (``dropout`` included) shape the encoder; build the
    classifier from an encoder to choose the head's own ``dropout``.

    Example:
    >>> model = BertClassifier.from_preset("bert_tiny", num_classes=5, vocabulary_size=100)
    >>> model.compile(optimizer=keras.optimizers.AdamW(2e-5))
    """

    encoder_output = "pooled_output"  # (B, H); BertTokenClassifier: every token's vector

    def __init__(self, encoder, num_classes, dropout=0.1, **kwargs):
        self.encoder = encoder
        self.classification_head = ClassificationHead(
            num_classes, dropout=dropout, kernel_initializer=bert_kernel_initializer(),
            name="classification_head")
        inputs = bert_inputs()
        features = encoder(encoder_inputs(inputs))[self.encoder_output]
        logits = self.classification_head(features)  # (B, C) or (B, T, C)
        super().__init__(inputs=inputs, outputs=self._outputs(logits), **kwargs)
        self.num_classes = num_classes
        self.dropout = dropout

    def _outputs(self, logits):
        """The model's outputs made of the head's logits (subclasses may split them)."""
        return logits

    def _task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout}
