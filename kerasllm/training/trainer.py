"""The one ``model.fit`` loop every job uses: checkpoints, resume, TensorBoard, summary.

A job hands over a compiled model and a ``TrainPlan``; ``fit`` resumes from
RUN_DIR/checkpoints when there is a checkpoint, runs ``model.fit`` on the
``tf.data`` input, stops cleanly on a NaN loss, saves model.keras and writes
RUN_DIR/metrics.json with a one-line summary.

Resuming mid-epoch: the input pipeline is deterministic, so the trainer asks
the plan for the batch stream positioned ``step`` batches in and runs the
rest of the interrupted epoch as its own short ``fit`` call before the
remaining whole epochs.
"""
import dataclasses
import json
import time
from typing import Callable, Optional

import click
import tensorflow as tf

from kerasllm import runs
from kerasllm.errors import KerasLLMError
from kerasllm.training import callbacks as cbs
from kerasllm.training.checkpoint import ResumableCheckpoint
from kerasllm.training.interrupts import StopOnSignal
from kerasllm.training.peers import peer_failures
from kerasllm.training.plain_progress import PlainProgress, interactive


@dataclasses.dataclass
class TrainPlan:
    """What to train on and for how long.

    Attributes:
        batches: ``skip -> tf.data.Dataset`` of global batches that repeats
            forever in a fixed order, starting ``skip`` batches in.
        steps_per_epoch: optimizer steps per epoch.
        epochs: number of epochs.
        eval_data: finite ``tf.data.Dataset`` evaluated after every epoch, or None.
        tokens_per_step: tokens in one global batch (for tokens/s).
        stateful: reset the model's recurrent state each epoch (LSTM LM).
        perplexity: also report exp(loss).
        monitor: eval metric whose best epoch becomes model.keras (with
            ``eval_data``), e.g. ``"val_loss"``.
        mode: ``"min"`` or ``"max"``, the better direction of ``monitor``.
        patience: stop after this many epochs without a better ``monitor``
            (0 = train every epoch).
        callbacks: ``RunLogger -> [keras callbacks]`` run after the logger and
            before the checkpoint (e.g. ``pretrain --eval``'s held-out metrics).
    """
    batches: Callable
    steps_per_epoch: int
    epochs: int
    eval_data: Optional[tf.data.Dataset] = None
    tokens_per_step: int = 0
    stateful: bool = False
    perplexity: bool = False
    monitor: str = "val_loss"
    mode: str = "min"
    patience: int = 0
    callbacks: Optional[Callable] = None

    @property
    def total_steps(self):
        return self.steps_per_epoch * self.epochs


def shard_input(dataset):
    """Split each global batch across workers (AutoShardPolicy.DATA), never by files.

    Every worker builds the same seeded stream of global batches and keeps its
    replicas' slices of each, so the union over workers in a step is exactly
    the single-machine global batch (tests/test_multi_worker_input.py) and a
    resume is ``batches(skip)`` on every worker. Sharding TFRecords by FILE
    would save each worker reading and decoding the others' examples, but
    changes which examples meet in a step (no parity with one machine) and
    needs as many files as workers; the stream's cost is the price of
    exactness, small next to a BERT step.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def _callbacks(ctx, plan, ckpt, logger, stop, resume_batch):
    """In the order they must run: metrics added to the logs, then logged, then
    checkpointed (which flushes the logs), then a pending signal acted on."""
    callbacks = [cbs.Perplexity()] if plan.perplexity else []
    callbacks += [logger, *(plan.callbacks(logger) if plan.callbacks else ()), ckpt]
    if plan.stateful:
        callbacks.append(cbs.ResetStates(skip_first=resume_batch > 0))
    if ctx.profile_steps:
        callbacks.append(cbs.profiler(ctx.log_dir / "profile", ctx.profile_steps))
    return callbacks + [stop]


def fit(model, plan, ctx, hparams=None, verbose="auto", export=None):
    """Train ``model`` (compiled inside the strategy scope) per ``plan``; return the metrics.

    ``export(model) -> model`` picks what is saved as model.keras (default:
    ``model``). With ``plan.eval_data``, model.keras holds the weights of the
    best epoch by ``plan.monitor``. Raises ``TrainingInterrupted`` (after a
    checkpoint) on SIGTERM / SIGINT.
    """
    monitor = plan.monitor if plan.eval_data is not None else None
    ckpt = ResumableCheckpoint(read_dir=ctx.path / "checkpoints", write_dir=ctx.write_path / "checkpoints",
                               every=ctx.checkpoint_every, steps_per_epoch=plan.steps_per_epoch,
                               keep=ctx.keep_checkpoints, monitor=monitor, mode=plan.mode,
                               patience=plan.patience if monitor else 0)
    start = min(ckpt.resumed_step, plan.total_steps)
    if start:
        click.echo(f"resumed from step {start}")
    finished = ctx.path / runs.METRICS_FILE
    if start and finished.is_file() and json.loads(finished.read_text()).get("step") == start:
        click.echo(f"{ctx.path} already finished at step {start}; nothing to do.")
        return json.loads(finished.read_text())
    logger = cbs.RunLogger(ctx.log_dir, ctx.write_path / runs.HISTORY_FILE, plan.tokens_per_step, hparams,
                           every=min(10, ctx.checkpoint_every), resumed_step=start)
    ckpt.before_commit.append(logger.flush)
    with StopOnSignal(ckpt) as stop, peer_failures(model.distribute_strategy, ctx.path / "checkpoints"):
        try:
            _build(model, plan)
            callbacks = _callbacks(ctx, plan, ckpt, logger, stop, start % plan.steps_per_epoch)
            logs, elapsed = _fit_epochs(model, plan, callbacks, start, verbose)
        finally:
            logger.flush()
    step = int(model.optimizer.iterations.numpy())
    if ckpt.stopped_on_nan is not None:
        raise KerasLLMError(
            f"loss became NaN at step {ckpt.stopped_on_nan}; training stopped. The last good "
            f"checkpoint (step {ckpt.last_saved_step}) is kept in {ctx.path / 'checkpoints'}; "
            f"lower --learning-rate or use --precision float32, then re-run with --overwrite.")
    if ckpt.stopped_early is not None:
        click.echo(f"early stopping at step {step}: no better {monitor} for {plan.patience} epochs")
    best = _restore_best(ckpt, monitor)
    if ctx.chief:
        runs.save_model(ctx.path, export(model) if export else model)
    return _summarise(plan, ctx, {**logs, **best}, step, start, elapsed)


def _fit_epochs(model, plan, callbacks, start, verbose):
    """``model.fit`` from global step ``start`` to the plan's end; returns (last logs, seconds)."""
    epoch, batch = divmod(start, plan.steps_per_epoch)
    if verbose == "auto":  # no \r / ANSI bars in log files
        verbose = 1 if interactive() else 2
        if verbose == 2:
            callbacks = [*callbacks[:-1], PlainProgress(plan.steps_per_epoch), callbacks[-1]]
    common = dict(callbacks=callbacks, validation_data=plan.eval_data, verbose=verbose,
                  shuffle=False)  # order comes from the plan's seeded stream
    logs = {}
    began = time.perf_counter()
    if batch:  # finish the interrupted epoch first
        history = model.fit(shard_input(plan.batches(start)), epochs=epoch + 1,
                            initial_epoch=epoch, steps_per_epoch=plan.steps_per_epoch - batch,
                            **common)
        logs = _last(history)
        epoch += 1
    if not model.stop_training and epoch < plan.epochs:
        history = model.fit(shard_input(plan.batches(epoch * plan.steps_per_epoch)),
                            epochs=plan.epochs, initial_epoch=epoch,
                            steps_per_epoch=plan.steps_per_epoch, **common)
        logs = _last(history) or logs
    return logs, time.perf_counter() - began


def _restore_best(ckpt, monitor):
    """Put the best epoch's weights back for model.keras; its step and value for metrics.json."""
    step = ckpt.restore_best() if monitor else None
    if step is None:
        return {}
    click.echo(f"model.keras: weights of step {step}, the best {monitor} ({ckpt.best['value']:.4g})")
    return {"best_step": step, f"best_{monitor}": ckpt.best["value"]}


def _build(model, plan):
    """Build model, optimizer and compiled metrics before ``fit`` from one per-replica batch.

    Without a strategy Keras creates the metric variables lazily inside the
    first train step, too late for a checkpoint to restore the interrupted
    epoch's running averages. Under MultiWorkerMirroredStrategy Keras 3.15's
    own pre-fit build (``_maybe_symbolic_build``) fails reducing an integer
    PerReplica batch, so after building here we switch that step off.
    ``_symbolic_build`` is what ``fit`` itself calls.
    """
    strategy = model.distribute_strategy
    batch = next(iter(plan.batches(0).take(1)))
    per_replica = tf.nest.map_structure(
        lambda t: t[: t.shape[0] // strategy.num_replicas_in_sync], batch)
    with strategy.scope():
        model._symbolic_build(data_batch=per_replica)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        from kerasllm.training.keras_compat import patch_multi_worker_fit

        model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
        patch_multi_worker_fit()


def _last(history):
    return {k: float(v[-1]) for k, v in history.history.items() if v}


def _summarise(plan, ctx, logs, step, start, elapsed):
    trained = step - start
    metrics = {
        "step": step,
        "epochs": plan.epochs,
        "resumed_from_step": start,
        "time_s": round(elapsed, 3),
        "steps_per_second": trained / elapsed if elapsed > 0 else 0.0,
        "tokens_per_second": trained * plan.tokens_per_step / elapsed if elapsed > 0 else 0.0,
        **logs,
    }
    if ctx.chief:
        runs.write_metrics(ctx.path, metrics)
    shown = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
    click.echo(f"done: step {step} in {elapsed:.1f} s, "
               f"{metrics['tokens_per_second']:.0f} tokens/s; {shown}")
    return metrics
