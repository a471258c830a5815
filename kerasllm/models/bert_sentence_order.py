"""Sentence-order prediction (ALBERT, Lan et al. 2020): were A and B swapped?"""
import keras

from kerasllm.models.bert_nsp import BertNSP


@keras.saving.register_keras_serializable(package="kerasllm")
class BertSentenceOrder(BertNSP):
    """Sentence-order prediction: same graph as ``BertNSP``, different objective.

    Both segments come from one document; label 0 = original order, 1 = swapped.
    The head is ``.sop_head``.

    Args:
        encoder: a ``BertEncoder``.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) int32.
    Outputs: (B, 2) float32 logits.

    Example:
    >>> model = BertSentenceOrder.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer="adam")
    """

    head_name = "sop_head"
