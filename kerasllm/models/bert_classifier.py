"""BERT text classifier: single texts or text pairs → class logits."""
import keras
from keras import ops

from kerasllm.layers import ClassificationHead
from kerasllm.layers.initializers import bert_kernel_initializer
from kerasllm.models.bert_encoder import bert_inputs
from kerasllm.models.bert_task import BertTask, encoder_inputs


@keras.saving.register_keras_serializable(package="kerasllm")
class BertClassifier(BertTask):
    """Text vector → dropout → dense → ``num_classes`` logits.

    Args:
        encoder: a ``BertEncoder``.
        num_classes: int. Number of classes.
        dropout: float. Dropout before the classifier.
        pooling: ``"cls"`` (BERT's: the encoder's pooler over the ``[CLS]``
            vector, which NSP / SOP pretraining trains and
            ``BertForSequenceClassification`` uses) or ``"mean"`` (the mean of the
            real tokens' vectors, as sentence-transformers do: every vector masked-LM
            pretraining trains, where MLM alone never trains ``[CLS]`` or the pooler).
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

    POOLINGS = ("cls", "mean")
    head_on_tokens = False  # taggers and QA set it: the head reads every token's state

    def __init__(self, encoder, num_classes, dropout=0.1, pooling="cls", **kwargs):
        if pooling not in self.POOLINGS:
            raise ValueError(f"pooling must be one of {self.POOLINGS}, received {pooling!r}.")
        self.pooling = pooling
        self._take_encoder(encoder)
        self.classification_head = ClassificationHead(
            num_classes, dropout=dropout, kernel_initializer=bert_kernel_initializer(),
            name="classification_head")
        inputs = bert_inputs()
        features = self._features(encoder(encoder_inputs(inputs)), inputs["padding_mask"])
        logits = self.classification_head(features)  # (B, C) or (B, T, C)
        super().__init__(inputs=inputs, outputs=self._outputs(logits), **kwargs)
        self.num_classes = num_classes
        self.dropout = dropout

    def _reads_pooled_output(self):
        return self.pooling == "cls" and not self.head_on_tokens

    def _features(self, outputs, padding_mask):
        """What the head reads: one (B, H) vector a text, or every token's (B, T, H)."""
        if self.head_on_tokens:
            return outputs["sequence_output"]  # (B, T, H)
        if self.pooling == "cls":
            return outputs["pooled_output"]  # (B, H)
        mean = keras.layers.GlobalAveragePooling1D(name="mean_pooling")
        return mean(outputs["sequence_output"], mask=ops.cast(padding_mask, "bool"))  # (B, H)

    def _outputs(self, logits):
        """The model's outputs made of the head's logits (subclasses may split them)."""
        return logits

    def _task_config(self):
        return {"num_classes": self.num_classes, "dropout": self.dropout, "pooling": self.pooling}
