"""BERT next-sentence prediction: does segment B really follow segment A?"""
import keras

from kerasllm.layers import NSPHead
from kerasllm.layers.initializers import bert_kernel_initializer
from kerasllm.models.bert_encoder import bert_inputs
from kerasllm.models.bert_task import BertTask, encoder_inputs


def pair_head(name):
    """A 2-way head on the encoder's pooled output (the pooler lives in the encoder)."""
    return NSPHead(use_pooler=False, kernel_initializer=bert_kernel_initializer(), name=name)


@keras.saving.register_keras_serializable(package="kerasllm")
class BertNSP(BertTask):
    """Next-sentence prediction: encoder pooled output → ``NSPHead`` → 2 logits.

    Labels as in the original BERT: 0 = segment B really follows A, 1 = B is random.

    Args:
        encoder: a ``BertEncoder``.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) int32.
    Outputs: (B, 2) float32 logits.

    Example:
    >>> model = BertNSP.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer="adam")  # sparse CE from logits + accuracy
    """

    head_name = "nsp_head"

    def __init__(self, encoder, **kwargs):
        self._take_encoder(encoder)
        head = pair_head(self.head_name)
        setattr(self, self.head_name, head)
        inputs = bert_inputs()
        pooled = encoder(encoder_inputs(inputs))["pooled_output"]  # (B, H)
        super().__init__(inputs=inputs, outputs=head(pooled), **kwargs)  # (B, 2)
