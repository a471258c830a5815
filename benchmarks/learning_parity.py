"""Learning parity (issue 23, item 1): kerasllm vs keras-hub BertMaskedLM on the same batches.

Per seed, one stream of MLM+NSP batches from the BBC training articles (the
``kerasllm pretrain --corpus`` stream, ``parity_data``) is materialised once
and fed, tensor for tensor, to each implementation:

- ``kerasllm-mlm``: kerasllm ``BertMaskedLM`` (with ``--mlm-weight W``, W != 1: its loss times
  W, named ``kerasllm-mlm-wW``: the control for the pretrainer's weight, since global-norm
  clipping and Adam's epsilon see the loss's scale);
- ``keras-hub-mlm``: keras-hub ``BertMaskedLM`` (``BertBackbone`` with the same sizes);
- ``kerasllm-mlm+nsp``: kerasllm ``BertPretrainer`` (the same rows, plus the NSP labels);
  with ``--mlm-weight W`` (W != 1) its runs are named ``kerasllm-mlm+nsp-wW`` and sit beside
  the weight-1 runs in the same JSON; with ``--mlm-alone-steps N`` (MLM alone for N steps,
  then MLM+NSP: ``kerasllm pretrain --mlm-alone-steps``) the name ends ``-fromN``.

All three: the preset's sizes, dropout 0.1, GELU (tanh approximation, what
keras-hub's backbone hard-codes), the same WordPiece vocabulary, kerasllm's
AdamW (warmup + linear decay, no decay on LayerNorm / biases, global-norm clip)
and the same loss (sparse cross-entropy over the real masked tokens). Every
``--eval-every`` steps each model is scored on a fixed held-out set of masked
pairs from the BBC test articles (``kerasllm.evaluation.pretraining_metrics``).

Writes ``benchmarks/results/learning_parity_<preset>.json`` after every run
(runs from earlier invocations with the same settings are kept, so seeds and
implementations can be added run by run) and the PNG of the curves beside it.

    python benchmarks/learning_parity.py --preset bert_tiny
    python benchmarks/learning_parity.py --preset bert_mini --seeds 0 1 2 --impl keras-hub-mlm
"""
import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import parity_data
import parity_report
from bert_models import bert_config, kerashub_backbone, kerasllm_encoder
from common import log, machine_info

RESULTS = Path(__file__).resolve().parent / "results"


def _kerasllm_mlm(config, mlm_weight=1.0):
    from kerasllm.models import BertMaskedLM
    return BertMaskedLM(kerasllm_encoder(config)), ({} if mlm_weight == 1 else
                                                    {"loss_weights": [mlm_weight]})


def _kerasllm_pretrainer(config, mlm_weight=1.0, mlm_alone_steps=0):
    from kerasllm.models import BertPretrainer
    return BertPretrainer(kerasllm_encoder(config), mlm_weight=mlm_weight,
                          mlm_alone_steps=mlm_alone_steps), {}


def _kerashub_mlm(config):
    import keras_hub

    from kerasllm.models.bert_task import accuracy, sparse_ce
    model = keras_hub.models.BertMaskedLM(backbone=kerashub_backbone(config), preprocessor=None)
    return model, {"loss": sparse_ce(masked=True), "weighted_metrics": [accuracy()]}


# name -> (pretraining task of its batches, builder returning (model, compile overrides))
IMPLS = {
    "kerasllm-mlm": ("mlm", _kerasllm_mlm),
    "keras-hub-mlm": ("mlm", _kerashub_mlm),
    "kerasllm-mlm+nsp": ("mlm+nsp", _kerasllm_pretrainer),
}
WEIGHTED = ("kerasllm-mlm", "kerasllm-mlm+nsp")  # the builders that take ``mlm_weight``


def build(impl, config, recipe, args):
    """The compiled model of ``impl`` with kerasllm's BERT optimizer, and its task."""
    from kerasllm.training import optimizers

    task, builder = IMPLS[impl]
    model, compile_args = builder(config, **_options(impl, args))
    optimizer = optimizers.adamw(args.learning_rate, args.warmup_steps, args.steps,
                                 recipe.weight_decay, recipe.clipnorm)
    model.compile(optimizer=optimizer, jit_compile=args.jit, **compile_args)
    optimizer.build(model.trainable_variables)
    decayed = [v for v in model.trainable_variables if optimizer._use_weight_decay(v)]
    params = {"trainable": int(sum(v.numpy().size for v in model.trainable_variables)),
              "weight_decayed": int(sum(v.numpy().size for v in decayed))}
    return model, task, params


class _Curve:
    """The logger ``HeldOutEvaluation`` writes to: keeps each evaluation as a point and hands
    the curve so far to ``progress`` (which saves it: a stopped run keeps its points)."""

    def __init__(self, progress):
        self.points, self.progress = [], progress

    def log_scalars(self, writer, step, values):
        self.points.append({"step": int(step), **{k.replace("heldout_", ""): float(v)
                                                  for k, v in values.items()}})
        self.progress(self.points)


def train_one(impl, seed, stacked, held_out, config, recipe, args, progress=lambda points: None):
    """One run: fit ``impl`` on the seed's batches, scoring the held-out set as it goes
    (``progress(points)`` after each evaluation)."""
    import keras

    from kerasllm.evaluation import pretraining_metrics
    from kerasllm.training.pretrain_eval import HeldOutEvaluation

    keras.utils.set_random_seed(seed)
    model, task, params = build(impl, config, recipe, args)
    held = [parity_data.view(b, task) for b in held_out]
    data = parity_data.dataset(stacked, task)
    curve = _Curve(progress)
    start = {k: v for k, v in pretraining_metrics(model, task, held).items()
             if k not in ("examples", "masked_tokens")}
    curve.log_scalars("validation", 0, start)
    began = time.perf_counter()
    history = model.fit(data, epochs=1, steps_per_epoch=args.steps, verbose=0,
                        callbacks=[HeldOutEvaluation(held, task, args.eval_every, curve)])
    wall = time.perf_counter() - began
    return {"impl": run_name(impl, args), "seed": seed, "task": task, "finished": True,
            "parameters": params, "mlm_weight": None, **_options(impl, args),
            "curve": curve.points,
            "final": curve.points[-1], "train_loss_last": history.history["loss"][-1],
            "wall_s": round(wall, 1), "load_average_at_end": list(os.getloadavg()),
            "fed_sha256": parity_data.digest(data),
            "mlm_sha256": parity_data.digest(parity_data.dataset(stacked, "mlm"))}


def _options(impl, args):
    """The builder's keyword arguments for ``impl``: ``--mlm-weight`` and ``--mlm-alone-steps``
    where it takes them."""
    options = {"mlm_weight": args.mlm_weight} if impl in WEIGHTED else {}
    if impl == "kerasllm-mlm+nsp":
        options["mlm_alone_steps"] = args.mlm_alone_steps
    return options


def run_name(impl, args):
    """``impl``, then ``-wW`` for a kerasllm model at ``--mlm-weight W`` (W != 1) and ``-fromN``
    for the pretrainer at ``--mlm-alone-steps N`` (N > 0)."""
    options = _options(impl, args)
    weight, alone = options.get("mlm_weight", 1), options.get("mlm_alone_steps", 0)
    return impl + (f"-w{weight:g}" if weight != 1 else "") + (f"-from{alone}" if alone else "")


def _settings(args, vocab_size):
    return {"preset": args.preset, "steps": args.steps, "batch_size": args.batch_size,
            "seq_length": args.seq_length, "learning_rate": args.learning_rate,
            "warmup_steps": args.warmup_steps, "eval_every": args.eval_every,
            "eval_examples": args.eval_examples, "vocab_size": vocab_size, "jit": args.jit,
            "max_predictions": parity_data.max_predictions(args.seq_length),
            "max_articles": args.max_articles}


def _load(path, settings):
    """Earlier runs with these settings (others are dropped, with a log line)."""
    if not path.is_file():
        return {}
    old = json.loads(path.read_text())
    if old.get("settings") != settings:
        log(f"{path.name} holds runs with other settings; replacing them")
        return {}
    return {f"{r['impl']}/{r['seed']}": r for r in old["runs"]}


def save(result, run, out):
    """Add ``run`` to the runs in ``out`` (under a lock: one process per seed may share it)."""
    import fcntl

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = _load(out, result["settings"])
        runs[f"{run['impl']}/{run['seed']}"] = run
        parity_report.write(result, list(runs.values()), out)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="bert_tiny")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--impl", nargs="+", default=list(IMPLS), choices=list(IMPLS))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-length", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=int, default=200)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--mlm-weight", type=float, default=1.0,
                        help="BertPretrainer's MLM loss weight (kerasllm pretrain --mlm-weight); "
                             "for kerasllm-mlm a plain loss scale, the control")
    parser.add_argument("--mlm-alone-steps", type=int, default=0,
                        help="kerasllm-mlm+nsp: MLM alone for this many steps, then MLM+NSP "
                             "(kerasllm pretrain --mlm-alone-steps)")
    parser.add_argument("--eval-examples", type=int, default=512)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--jit", default=False, action=argparse.BooleanOptionalAction)
    parser.add_argument("--max-articles", type=int, default=None,
                        help="first N articles of each split (smoke tests)")
    parser.add_argument("--work", default="/tmp/kerasllm-learning-parity")
    parser.add_argument("--output", default=None, help="JSON path [default: results/learning_parity_<preset>.json]")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    from kerasllm.presets import load_preset

    train_file, test_file = parity_data.corpus_files(args.work, args.max_articles)
    tokenizer = parity_data.vocabulary(args.work, train_file, args.vocab_size)
    vocab_size = len(tokenizer.vocabulary)
    config = bert_config(args.preset, vocabulary_size=vocab_size,
                         max_sequence_length=max(args.seq_length, 64))
    recipe = load_preset(args.preset).training
    held_out = parity_data.held_out(test_file, tokenizer, args.batch_size, args.eval_examples,
                                    args.seq_length)
    out = Path(args.output) if args.output else RESULTS / f"learning_parity_{args.preset}.json"
    result = {"settings": _settings(args, vocab_size), "machine": machine_info(),
              "model_config": dataclasses.asdict(config),
              "command": "python benchmarks/learning_parity.py " + " ".join(argv or sys.argv[1:]),
              "held_out": {"examples": sum(len(b[0]["token_ids"]) for b in held_out),
                           "masked_tokens": int(sum(b[2]["mlm"].sum() for b in held_out)),
                           "nsp_random_next_fraction": float(
                               np.concatenate([b[1]["nsp"] for b in held_out]).mean()),
                           "seed": parity_data.HELD_OUT_SEED, "source": "BBC test articles"},
              "differences": parity_report.DIFFERENCES}
    for seed in args.seeds:
        stacked = parity_data.training_batches(train_file, tokenizer, seed, args.batch_size,
                                               args.seq_length, args.steps)
        for impl in args.impl:
            name = run_name(impl, args)
            log(f"{args.preset} seed {seed} {name}: {args.steps} steps")
            def progress(points, name=name, seed=seed):
                save(result, {"impl": name, "seed": seed, "finished": False, "curve": points}, out)

            run = train_one(impl, seed, stacked, held_out, config, recipe, args, progress)
            run["batches"] = parity_data.batch_summary(stacked)
            log(f"  final held-out {json.dumps(run['final'])}, {run['wall_s']} s")
            save(result, run, out)
    return out


if __name__ == "__main__":
    main()
