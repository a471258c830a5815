"""The Zaremba et al. (2014) objective for ``train-lm``: cross-entropy summed over time.

The paper's recipe (SGD lr 1, global-norm clip 5 or 10) is stated for the
loss of its reference implementation (TensorFlow's ``ptb_word_lm.py``):
the cross-entropy *summed over the ``num_steps`` unrolled time steps* and
averaged over the batch ("gradients normalized by minibatch size"). Keras'
``SparseCategoricalCrossentropy`` averages over batch *and* time, so its
gradient is ``num_steps`` times smaller: lr 1 then acts like lr 0.05 for
lstm_small (20 steps) and the clip almost never engages, which is why the
recipe learned far slower than the paper (epoch 1 valid ppl 465 vs ~180).

``TimeSummedCrossentropy`` keeps the Keras loss API and ``model.fit``. Its
*gradient* is that of ``sum_t mean_b CE(b, t)`` (what SGD and the clip see);
its *value* stays the per-token mean, so the logged ``loss`` is still nats
per token and ``perplexity = exp(loss)`` as everywhere else in kerasllm.
Per element it returns ``T * ce - stop_gradient((T - 1) * ce)``, whose
value is ``ce`` and whose gradient is ``T * d ce``; the usual
``sum_over_batch_size`` reduction then divides by ``B * T``.
"""
import keras
from keras import ops

OBJECTIVES = ("sum_over_time", "token_mean")


@keras.saving.register_keras_serializable(package="kerasllm")
class TimeSummedCrossentropy(keras.losses.Loss):
    """Sparse CE from logits; value = per-token mean, gradient = sum over time / batch.

    Args:
        name: loss name. Defaults to `"time_summed_crossentropy"`.
        reduction: Keras reduction, keep the default `"sum_over_batch_size"`
            (the mean over B x T elements) for the documented behaviour.
        dtype: Keras loss dtype.

    Call arguments:
        y_true: int targets `(batch_size, time_steps)`.
        y_pred: float logits `(batch_size, time_steps, vocabulary_size)`.
    """

    def __init__(self, name="time_summed_crossentropy", reduction="sum_over_batch_size",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 3:
            raise ValueError("TimeSummedCrossentropy needs (batch, time, vocabulary) logits, "
                             f"received shape {tuple(y_pred.shape)}.")
        ce = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=True)  # (B, T) nats per token
        steps = ops.cast(ops.shape(ce)[1], ce.dtype)
        return steps * ce - ops.stop_gradient((steps - 1.0) * ce)  # value ce, gradient T * d ce


def lm_loss(objective):
    """The compiled loss for ``objective``: "sum_over_time" (paper) or "token_mean" (Keras)."""
    if objective == "sum_over_time":
        return TimeSummedCrossentropy()
    if objective == "token_mean":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    raise ValueError(f"loss objective must be one of {', '.join(OBJECTIVES)}, "
                     f"received {objective!r}.")
