"""BERT masked language model: predict the masked tokens."""
import keras

from kerasllm.layers import MaskedLMHead
from kerasllm.layers.initializers import bert_kernel_initializer
from kerasllm.models.bert_encoder import bert_inputs
from kerasllm.models.bert_task import BertTask, accuracy, encoder_inputs, sparse_ce


def tied_masked_lm_head(encoder):
    """A MaskedLMHead tied to ``encoder``'s token embedding table."""
    return MaskedLMHead(
        encoder.vocabulary_size, token_embedding=encoder.embeddings.token_embedding,
        activation=encoder.activation, layer_norm_epsilon=encoder.layer_norm_epsilon,
        kernel_initializer=bert_kernel_initializer(), name="masked_lm_head")


@keras.saving.register_keras_serializable(package="kerasllm")
class BertMaskedLM(BertTask):
    """Masked-LM model: encoder + tied ``MaskedLMHead``.

    Args:
        encoder: a ``BertEncoder``.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: dict ``token_ids``, ``segment_ids``, ``padding_mask`` (B, T) and
    ``mask_positions`` (B, P) int32 (padded slots point anywhere; give them
    sample weight 0).

    Outputs: (B, P, V) float32 logits.

    Training data: ``(x, mask_ids (B, P), mask_weights (B, P))``. With
    ``compile(optimizer=...)`` the loss is the cross-entropy averaged over
    real (weight > 0) masked tokens and ``accuracy`` is weighted alike.

    Example:
    >>> model = BertMaskedLM.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer="adam")
    >>> model.fit(dataset_of_x_y_weights, epochs=1)
    """

    def _reads_pooled_output(self):
        return False

    def __init__(self, encoder, **kwargs):
        self._take_encoder(encoder)
        self.masked_lm_head = tied_masked_lm_head(encoder)
        inputs = bert_inputs(with_mask_positions=True)
        # the last layer runs only at the masked positions: the loss reads nothing else
        masked, _ = encoder.encode_at(encoder_inputs(inputs), inputs["mask_positions"])  # (B, P, H)
        logits = self.masked_lm_head(masked)  # (B, P, V)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

    def _default_compile(self):
        return {"loss": sparse_ce(masked=True), "metrics": None,
                "weighted_metrics": [accuracy()]}
