"""What every training job shares: strategy, precision, RUN_DIR, compile, fit.

A job module (pretrain_job / classify_finetune / lm_job ...) supplies ``prepare(options,
strategy)`` returning a ``JobSpec``: the resolved config, the vocabulary and
labels to save, and ``build()`` which returns the model, compile arguments
and the ``TrainPlan``. ``run_job`` does the rest in the required order:
strategy first (it must exist before TensorFlow initialises its devices),
then the dtype policy, the RUN_DIR, and model + optimizer inside
``strategy.scope()``.
"""
import contextlib
import dataclasses
from typing import Callable, Optional

from kerasllm import runs
from kerasllm.training import callbacks, precision, trainer
from kerasllm.training.run_setup import setup_run
from kerasllm.training.strategy import make_strategy

@dataclasses.dataclass
class JobSpec:
    """A job ready to train.

    Attributes:
        config: resolved config for RUN_DIR/config.yaml.
        vocab: tokens for vocab.txt.
        build: ``() -> (model, compile_kwargs, TrainPlan)``; called inside
            ``strategy.scope()``. ``compile_kwargs`` must include the optimizer.
        labels: class names for labels.txt, or None.
        export: ``model -> model`` saved as model.keras, or None.
    """
    config: dict
    vocab: list
    build: Callable
    labels: Optional[list] = None
    export: Optional[Callable] = None


def job_config(job, task, family, preset, model, tokenizer, seq_length, options, text_pair=False):
    """The RUN_DIR/config.yaml mapping: the contract keys, then every option used."""
    # Options first, so a same-named option (train-lm's --tokenizer word) never
    # replaces a contract key (the tokenizer settings load_run reads back).
    used = {k: v for k, v in options.items()
            if k not in ("overwrite", "output", "config") and v is not None}
    return {**used, "job": job, "task": task, "family": family, "preset": preset,
            "model": runs._plain(model), "tokenizer": tokenizer, "seq_length": int(seq_length),
            "text_pair": bool(text_pair)}


def run_job(prepare, options):
    """Run a job end to end; returns the metrics dict (also in RUN_DIR/metrics.json).

    ``options``: a job's validated options as a mapping (``JobOptions.job_options()``,
    what ``kerasllm.training.pretrain(...)`` etc. pass); unset ones are None.
    """
    options = dict(options)
    options["deterministic"] = _determinism(options["deterministic"], options["jit"])
    strategy = make_strategy(options["replicas"])
    with _process_settings():
        precision.set_precision(options["precision"])
        return _train(prepare, options, strategy)


def _determinism(deterministic, jit):
    """Op determinism (bit-exact resume) is on by default, but Keras silently turns
    XLA off while it is on: --jit alone therefore means --no-deterministic (the two
    together are refused by ``CommonOptions.check_combinations``)."""
    return not jit if deterministic is None else deterministic


@contextlib.contextmanager
def _process_settings():
    """Give the dtype policy and op determinism back afterwards, so a job run
    from Python (the demo, a notebook, tests) leaves the process as it found it."""
    import keras
    from tensorflow.python.framework import config as tf_config  # no public "disable"

    policy = keras.mixed_precision.global_policy().name
    deterministic = tf_config.is_op_determinism_enabled()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
        if not deterministic:
            tf_config.disable_op_determinism()


def _train(prepare, options, strategy):
    spec = prepare(options, strategy)
    ctx = setup_run(options, spec.config, strategy)
    try:  # whatever fails from here on, ctx.close() unlocks RUN_DIR
        if ctx.chief:
            runs.write_lines(ctx.path / runs.VOCAB_FILE, spec.vocab)
            if spec.labels is not None:
                runs.write_lines(ctx.path / runs.LABELS_FILE, spec.labels)
        with strategy.scope():
            model, compile_kwargs, plan = spec.build()
            model.compile(**compile_kwargs, **precision.compile_options(options["jit"]))
        return trainer.fit(model, plan, ctx, hparams=callbacks.flat_hparams(spec.config),
                           export=spec.export)
    finally:
        ctx.close()


def schedule_length(options, steps_per_epoch, default_epochs):
    """``(steps_per_epoch, epochs)`` from --steps / --epochs: ``--steps N`` is one
    N-step epoch over the continuous stream; otherwise whole passes over the data."""
    if options.get("steps"):
        return int(options["steps"]), 1
    return steps_per_epoch, int(options.get("epochs") or default_epochs)
