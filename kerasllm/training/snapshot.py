"""Turn one of a run's step checkpoints into a run directory of its own.

A training job writes ``model.keras`` only when it finishes; on the way it keeps
the last ``--keep-checkpoints`` step checkpoints (``checkpoints/ckpt-<step>.npz``,
``kerasllm.training.checkpoint``). ``snapshot_run`` writes a copy of a finished
RUN_DIR whose model holds the weights of an earlier step, so that model can be
evaluated, fine-tuned (``finetune --init``) or exported like any finished run.
One long pretraining run then gives the models of several shorter budgets:
``benchmarks/pretraining_value.py`` fine-tunes from each to measure what every
stretch of pretraining buys.

Why not build the model afresh and load the ``.npz``: the checkpoint stores the
variables in the order of ``model.variables`` (then the optimizer's and the
metrics'), so the finished run's own ``model.keras`` is the one model whose
variables line up with it, shape for shape (checked).
"""
import shutil
from pathlib import Path

from kerasllm import runs
from kerasllm.errors import KerasLLMError
from kerasllm.training.checkpoint import _load
from kerasllm.training.run_lock import LOCK_FILE

CHECKPOINTS = "checkpoints"
NOT_COPIED = {runs.MODEL_FILE, runs.METRICS_FILE, runs.HISTORY_FILE, CHECKPOINTS, "logs", LOCK_FILE}


def checkpoint_steps(run_dir):
    """The steps of the checkpoints kept in ``run_dir``, ascending."""
    files = (Path(run_dir) / CHECKPOINTS).glob("ckpt-*.npz")
    return sorted(int(p.stem.split("-")[1]) for p in files)


def snapshot_run(run_dir, step, output):
    """Write ``output``: ``run_dir``'s config and vocabulary with the model of checkpoint ``step``.

    Args:
        run_dir: a finished run (it has ``model.keras``) that kept checkpoint ``step``.
        step: the global step of the checkpoint to take the weights from.
        output: the new run directory (created; an existing model there is replaced).

    Returns:
        ``output`` as a ``Path``.
    """
    run_dir, output = Path(run_dir), Path(output)
    path = run_dir / CHECKPOINTS / f"ckpt-{step}.npz"
    if not path.is_file():
        kept = ", ".join(map(str, checkpoint_steps(run_dir))) or "none"
        raise KerasLLMError(f"{path}: no checkpoint at step {step} (kept: {kept}); train with "
                            f"--checkpoint-every dividing {step} and a larger --keep-checkpoints.")
    model = runs.load_model(run_dir)
    values = _load(path)
    variables = model.variables
    mismatch = next((v.path for v, a in zip(variables, values) if tuple(v.shape) != a.shape), None)
    if len(values) < len(variables) or mismatch:
        raise KerasLLMError(f"{path} does not match {run_dir / runs.MODEL_FILE} (first differing "
                            f"variable: {mismatch or 'count'}); was the run re-trained with another "
                            f"config? Snapshot a checkpoint of the run that wrote model.keras.")
    for variable, value in zip(variables, values):
        variable.assign(value)
    output.mkdir(parents=True, exist_ok=True)
    for item in run_dir.iterdir():
        if item.is_file() and item.name not in NOT_COPIED:
            shutil.copy2(item, output / item.name)
    runs.save_model(output, model)
    runs.write_metrics(output, {"step": step, "snapshot_of": str(run_dir)})
    return output
