"""BERT pretraining: masked LM and next-sentence prediction trained jointly."""
import keras
from keras import ops

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

    With ``mlm_alone_steps=N`` the first N optimizer steps train masked LM
    alone: the NSP loss is still computed and logged, but no gradient flows
    from it (into the heads or the shared encoder) until ``optimizer.iterations``
    reaches N. From scratch, NSP slows the encoder's escape from the unigram
    plateau of MLM (README, "Learning parity"); joining after it lets MLM learn
    at MLM alone's pace. The step is the optimizer's, so a resumed run keeps it.

    Args:
        encoder: a ``BertEncoder``.
        mlm_weight: float. Weight of the MLM loss in the total.
        mlm_alone_steps: int. Steps before the NSP loss trains anything (0: from the start).
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Example:
    >>> model = BertPretrainer.from_preset("bert_tiny", vocabulary_size=100)
    >>> model.compile(optimizer="adam")
    >>> model.fit(dataset_of_x_y_weights)  # logs loss, mlm_accuracy, nsp_accuracy
    """

    def __init__(self, encoder, mlm_weight=1.0, mlm_alone_steps=0, **kwargs):
        self._take_encoder(encoder)
        self.masked_lm_head = tied_masked_lm_head(encoder)
        self.nsp_head = pair_head("nsp_head")
        inputs = bert_inputs(with_mask_positions=True)
        # the last layer runs only at [CLS] (for NSP) and the masked positions (for MLM)
        masks = inputs["mask_positions"]  # (B, P)
        cls_and_masks = ops.concatenate([ops.zeros_like(masks[:, :1]), masks], axis=1)
        states, pooled = encoder.encode_at(encoder_inputs(inputs), cls_and_masks)  # (B, 1+P, H)
        outputs = {
            "mlm": self.masked_lm_head(states[:, 1:]),  # (B, P, V)
            "nsp": self.nsp_head(pooled),  # (B, 2)
        }
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.mlm_weight = mlm_weight
        self.mlm_alone_steps = mlm_alone_steps

    def _task_config(self):
        return {"mlm_weight": self.mlm_weight, "mlm_alone_steps": self.mlm_alone_steps}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training and self.mlm_alone_steps and self.optimizer is not None:
            y_pred = dict(y_pred, nsp=self._nsp_after_mlm_alone(y_pred["nsp"]))
        return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    def _nsp_after_mlm_alone(self, logits):
        """``logits`` with their gradient cut before step ``mlm_alone_steps``: the same
        values (the logged loss and accuracy do not change), no NSP update."""
        joined = ops.cast(self.optimizer.iterations >= self.mlm_alone_steps, logits.dtype)
        return joined * logits + (1.0 - joined) * ops.stop_gradient(logits)

    def _default_compile(self):
        return {
            "loss": {"mlm": sparse_ce(masked=True), "nsp": sparse_ce()},
            "loss_weights": {"mlm": self.mlm_weight, "nsp": 1.0},
            "metrics": None,
            "weighted_metrics": {"mlm": [accuracy()], "nsp": [accuracy()]},
        }
