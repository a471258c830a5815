"""Shared base of the BERT task models: config round trip, presets, default compile."""
import keras

from kerasllm.models.bert_encoder import BertEncoder
from kerasllm.models.preset_mixin import PresetMixin


def sparse_ce(masked=False):
    """Sparse cross-entropy from logits; ``masked`` averages over the sample weights
    (the mask weights), i.e. the mean loss over real masked tokens."""
    reduction = "mean_with_sample_weight" if masked else "sum_over_batch_size"
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)


def accuracy():
    return keras.metrics.SparseCategoricalAccuracy(name="accuracy")


class BertTask(PresetMixin, keras.Model):
    """A functional model built around ``self.encoder`` (a ``BertEncoder``).

    Subclasses build their graph in ``__init__`` and call ``super().__init__``
    with ``inputs``/``outputs``; they list their extra constructor arguments
    in ``_task_config()`` and their default losses / metrics in
    ``_default_compile()``.
    """

    def _task_config(self):
        return {}

    def _reads_pooled_output(self):
        """Does this task's head read the encoder's pooled output? (see ``_take_encoder``)"""
        return True

    def _take_encoder(self, encoder):
        """Hold ``encoder``, its pooler trainable only if this task reads the pooled output.

        An unread pooler (masked LM, taggers, QA, mean pooling) gets no gradients:
        keras warns "Gradients do not exist for variables ['pooler/dense/kernel', ...]"
        and the optimizer would keep slots for it. Set on every build, so an encoder
        passed on from a masked LM to NSP or a ``[CLS]`` classifier trains its pooler
        again; a frozen encoder stays frozen. The weights are kept either way.
        """
        self.encoder = encoder
        encoder.pooler.trainable = encoder.trainable and self._reads_pooled_output()

    def _default_compile(self):
        """dict with the ``loss`` and ``metrics`` / ``weighted_metrics`` to use by default."""
        return {"loss": sparse_ce(), "metrics": [accuracy()]}

    def compile(self, optimizer="adam", loss="auto", metrics="auto", weighted_metrics="auto",
                **kwargs):
        """``keras.Model.compile`` with task defaults: ``loss="auto"`` is sparse
        cross-entropy from logits (masked-token mean for MLM) and the "auto"
        metrics are the task's accuracies. Explicit values replace the defaults."""
        defaults = self._default_compile()
        chosen = {"loss": loss, "metrics": metrics, "weighted_metrics": weighted_metrics}
        for key, value in chosen.items():
            if isinstance(value, str) and value == "auto":
                chosen[key] = defaults.get(key)
        for key, value in defaults.items():
            if key not in chosen:  # e.g. loss_weights
                kwargs.setdefault(key, value)
        super().compile(optimizer=optimizer, **chosen, **kwargs)

    def compile_from_config(self, config):
        # Our compile() only fills in defaults, so the stock restore applies
        # (keras skips it, with a warning, for any overridden compile()).
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        # Not chaining to Functional.get_config: that is the graph, not our arguments.
        return {"encoder": keras.saving.serialize_keras_object(self.encoder),
                "name": self.name, "trainable": self.trainable, **self._task_config()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config["encoder"], dict):
            config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

    @classmethod
    def _from_model_config(cls, model_kwargs, **kwargs):
        return cls(encoder=BertEncoder(**model_kwargs), **kwargs)


def encoder_inputs(inputs):
    """The three encoder inputs out of a task model's input dict."""
    return {k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")}
