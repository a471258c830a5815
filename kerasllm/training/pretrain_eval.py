"""``pretrain --eval CORPUS``: held-out masked-LM and NSP / SOP metrics while pretraining.

Every ``--eval-every`` steps and at each epoch end the model is scored on a
fixed set of held-out sequences (pairs and masks drawn once with ``--seed``,
so every evaluation sees the same examples) and the metrics go to
TensorBoard's ``validation`` run at the global step, and to the job's output.

Why not ``fit(validation_data=...)``: Keras evaluates only at epoch ends (a
``--steps`` run is one epoch), and a mid-epoch ``model.evaluate`` resets the
compiled metrics, which would corrupt the running training loss the
checkpoints and logs record. This scores the model with plain forward passes
(``kerasllm.evaluation.pretraining_metrics``, the same code as ``kerasllm
evaluate``) and leaves the training state alone.
"""
import math

import click
import keras


def held_out_batches(patterns, tokenizer, task, batch_size, examples, seq_length, seed):
    """The held-out batches, drawn once: ``ceil(examples / batch_size)`` batches as numpy."""
    from kerasllm.data import PretrainingConfig, TokenizedCorpus, VocabularyInfo, read_documents
    from kerasllm.data.streaming import streaming_pretraining_dataset

    corpus = TokenizedCorpus.from_documents(read_documents(list(patterns)), tokenizer)
    config = PretrainingConfig(seq_length=seq_length, seed=seed)
    dataset = streaming_pretraining_dataset(corpus, VocabularyInfo.from_tokenizer(tokenizer),
                                            batch_size, task=task, config=config)
    return [batch for batch in dataset.take(math.ceil(examples / batch_size)).as_numpy_iterator()]


class HeldOutEvaluation(keras.callbacks.Callback):
    """Score ``batches`` every ``every`` steps and at epoch ends; log to ``logger``'s validation run.

    Args:
        batches: list of ``(x, y, sample_weight)`` pretraining batches.
        task: the run's pretraining task name.
        every: steps between evaluations.
        logger: the run's ``RunLogger``.
    """

    def __init__(self, batches, task, every, logger):
        super().__init__()
        self.batches, self.task, self.every, self.logger = batches, task, int(every), logger
        self._last = None

    def _step(self):
        return int(self.model.optimizer.iterations.numpy())

    def _evaluate(self):
        from kerasllm.evaluation import pretraining_metrics

        step = self._step()
        if step == self._last:
            return
        self._last = step
        metrics = pretraining_metrics(self.model, self.task, self.batches)
        shown = {k: v for k, v in metrics.items() if k not in ("examples", "masked_tokens")}
        self.logger.log_scalars("validation", step, {f"heldout_{k}": v for k, v in shown.items()})
        click.echo(f"step {step} held-out: " + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))

    def on_train_batch_end(self, batch, logs=None):
        if self._step() % self.every == 0:
            self._evaluate()

    def on_epoch_end(self, epoch, logs=None):
        self._evaluate()
