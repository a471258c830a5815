"""BERT pretraining: masked LM and next-sentence prediction trained jointly."""
import keras

from kerasllm.models.bert_encoder import bert_inputs
from kerasllm.models.bert_masked_lm import tied_masked_lm_head
from kerasllm.models.bert_nsp import pair_head
from kerasllm.models.bert_task import BertTask, accuracy, encoder_inputs, sparse_ce


@keras.saving.register_keras_serializable(package="kerasllm")
class BertPretrainer(BertTask):
    """MLM + NSP: dict outputs ``mlm`` (B, P, V) and ``nsp`` (B, 2), float32.

    Training data: ``x`` with ``mask_positions``; ``y = {"mlm": mask_ids (B, P),
    "nsp": labels (B,)}``; ``sample_weight = {"mlm": mask_weights (B, P),
    "nsp": ones (B,)}``. With ``compile(optimizer=...)`` the loss is
    ``mlm_weight × (MLM cross-entropy averaged over real masked tokens) +
    NSP cross-entropy`` and the metrics are ``mlm_accuracy`` (weighted by the
    mask weights) and ``nsp_accuracy``.

    Args:
        encoder: a ``BertEncoder``.
        mlm_weight: float. Weight of the MLM loss in the total.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Example:
    >>> model = BertPretrainer.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer="adam")
    >>> model.fit(dataset_of_x_y_weights)  # logs loss, mlm_accuracy, nsp_accuracy
    """

    def __init__(self, encoder, mlm_weight=1.0, **kwargs):
        self.encoder = encoder
        self.masked_lm_head = tied_masked_lm_head(encoder)
        self.nsp_head = pair_head("nsp_head")
        inputs = bert_inputs(with_mask_positions=True)
        encoded = encoder(encoder_inputs(inputs))
        outputs = {
            "mlm": self.masked_lm_head(encoded["sequence_output"], inputs["mask_positions"]),
            "nsp": self.nsp_head(encoded["pooled_output"]),
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.mlm_weight = mlm_weight

    def _task_config(self):
        return {"mlm_weight": self.mlm_weight}

    def _default_compile(self):
        return {
            "loss": {"mlm": sparse_ce(masked=True), "nsp": sparse_ce()},
            "loss_weights": {"mlm": self.mlm_weight, "nsp": 1.0},
            "metrics": None,
            "weighted_metrics": {"mlm": [accuracy()], "nsp": [accuracy()]},
        }
