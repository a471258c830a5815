"""BERT token classifier (named-entity recognition): one tag per token."""
import keras

from kerasllm.models.bert_classifier import BertClassifier
from kerasllm.models.bert_task import accuracy, sparse_ce


@keras.saving.register_keras_serializable(package="kerasllm")
class BertTokenClassifier(BertClassifier):
    """Encoder sequence output → dropout → per-token dense → ``num_classes`` logits
    (Hugging Face ``BertForTokenClassification``). The graph of ``BertClassifier``
    with the head on every token instead of the pooled [CLS] vector.

    Args:
        encoder: a ``BertEncoder``.
        num_classes: int. Number of tags.
        dropout: float. Dropout before the per-token classifier.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) int32.
    Outputs: (B, T, num_classes) float32 logits.

    Training data: ``(x, tag_ids (B, T), weights (B, T))``; weight 1 on the
    first WordPiece of each word, 0 on later pieces, specials and padding. With
    ``compile(optimizer=...)`` the loss is the cross-entropy averaged over the
    weighted tokens and ``accuracy`` (token accuracy) is weighted alike.

    Example:
    >>> model = BertTokenClassifier.from_preset("bert_tiny", num_classes=9, vocabulary_size=100)
    >>> model.compile(optimizer=keras.optimizers.AdamW(5e-5))
    """

    head_on_tokens = True

    def _default_compile(self):
        return {"loss": sparse_ce(masked=True), "metrics": None,
                "weighted_metrics": [accuracy()]}
