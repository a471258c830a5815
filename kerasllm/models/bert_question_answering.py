"""BERT extractive question answering: start / end logits of the answer span."""
import keras
from keras import ops

from kerasllm.models.bert_classifier import BertClassifier
from kerasllm.models.bert_task import sparse_ce


@keras.saving.register_keras_serializable(package="kerasllm")
class BertQuestionAnswering(BertClassifier):
    """Encoder sequence output → a dense layer with 2 outputs per token → start and end
    logits (Hugging Face ``BertForQuestionAnswering``: ``qa_outputs``, no dropout).

    Args:
        encoder: a ``BertEncoder``.
        num_classes: int, must be 2 (start, end); kept for the shared config.
        dropout: float. Dropout before the dense layer (0, as transformers).
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids`` (1 on the context), ``padding_mask``
    (B, T) int32: ``[CLS] question [SEP] context [SEP]``.
    Outputs: dict ``start`` and ``end``, (B, T) float32 logits each.

    Training data: ``(x, {"start": (B,), "end": (B,)})`` token positions of the
    answer (0, the [CLS], when the window holds none). The default loss is the
    mean of the start and end cross-entropies, as in BERT's run_squad.

    Example:
    >>> model = BertQuestionAnswering.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer=keras.optimizers.AdamW(5e-5))
    """

    head_on_tokens = True

    def __init__(self, encoder, num_classes=2, dropout=0.0, **kwargs):
        if num_classes != 2:
            raise ValueError(f"BertQuestionAnswering has 2 outputs (start, end), "
                             f"received num_classes={num_classes}.")
        super().__init__(encoder, num_classes=2, dropout=dropout, **kwargs)

    def _outputs(self, logits):  # (B, T, 2)
        return {"start": ops.take(logits, 0, axis=-1), "end": ops.take(logits, 1, axis=-1)}

    def _default_compile(self):
        return {"loss": {"start": sparse_ce(), "end": sparse_ce()},
                "loss_weights": {"start": 0.5, "end": 0.5}, "metrics": None}
