"""Pretraining value (issue 23, item 2): what pretraining buys on this machine.

One ``kerasllm pretrain`` run on the BBC training articles per budget
(``--budgets`` minutes of this machine, converted to steps with the probed
step time; each run warms up and decays over its own steps). Then every
budget, and 0 (the same architecture and vocabulary from random weights, or the
``--init`` run itself when continuing a pretrained encoder), is fine-tuned with
one recipe by ``kerasllm finetune``:

1. the learning rate is chosen from ``--finetune-lrs`` on a dev split carved
   from the training articles (every ``--dev-every``-th article of each topic,
   seed 0), never on the held-out test articles;
2. at that rate, ``--seeds`` fine-tunes (seed 0 is step 1's run) are scored on
   the held-out BBC test articles: accuracy and macro-F1, mean and standard error.

Each pretraining run is one seed (0); the seeds vary the
fine-tuning (head initialisation, dropout, batch order). Every run directory
is kept under ``--work``, so a stopped benchmark resumes where it was, and the
results JSON and PNG (``pretraining_value_report``) are rewritten after each step.

    python benchmarks/pretraining_value.py                           # bert_mini, 0/5/15/45 min
    python benchmarks/pretraining_value.py --step-seconds 2.0        # skip the step-time probe
    python benchmarks/pretraining_value.py --init runs/minilm --name minilm --task mlm
"""
import argparse
import collections
import json
import multiprocessing
import os
import sys
import time
from concurrent import futures
from pathlib import Path

import pretraining_value_report as report
from common import log, machine_info

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", default=None, help="Results name [default: the preset's].")
    p.add_argument("--preset", default="bert_mini")
    p.add_argument("--init", default=None, help="Continue this run (e.g. an import-hf MiniLM).")
    p.add_argument("--task", default="mlm", help="Pretraining task.")
    p.add_argument("--budgets", type=float, nargs="+", default=[5, 15, 45], help="Minutes.")
    p.add_argument("--budget-steps", type=int, nargs="+", help="Steps instead of --budgets.")
    p.add_argument("--step-seconds", type=float, help="Pretraining step time [default: probed].")
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--warmup-fraction", type=float, default=0.1)
    p.add_argument("--masked-lm-prob", type=float, default=0.15)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--finetune-lrs", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3])
    p.add_argument("--finetune-epochs", type=int, default=3)
    p.add_argument("--finetune-seq-length", type=int, default=32)
    p.add_argument("--finetune-batch-size", type=int, default=16)
    p.add_argument("--finetune-pooling", default="cls", choices=("cls", "mean"))
    p.add_argument("--labelled-per-topic", type=int, help=(
        "Fine-tune on only this many labelled training articles per topic (pretraining still "
        "reads them all; dev and test unchanged): what pretraining buys when labels are few."))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--dev-every", type=int, default=7, help="Every Nth article per topic is dev.")
    p.add_argument("--per-topic", type=int, help="Use only this many articles per topic (tests).")
    p.add_argument("--parallel", type=int, default=1, help="Fine-tunes at once (processes).")
    p.add_argument("--work", default="runs/pretraining_value")
    p.add_argument("--results", default=str(RESULTS))
    return p.parse_args(argv)


def _per_topic(docs, every=None, limit=None):
    """``docs`` cut to ``limit`` per topic, or split into (rest, every ``every``-th per topic)."""
    counts, kept, picked = collections.Counter(), [], []
    for doc in docs:
        counts[doc.label] += 1
        if limit is None or counts[doc.label] <= limit:
            (picked if every and counts[doc.label] % every == 0 else kept).append(doc)
    return kept, picked


def write_data(work, dev_every, per_topic, labelled_per_topic=None):
    """Pretraining corpus (all training articles), fine-tune train / dev and test JSONL."""
    from kerasllm.data.corpus import write_bert_corpus
    from kerasllm.data.datasets import bbc_news
    from kerasllm.data.text_files import write_lines_atomically

    train, _ = _per_topic(bbc_news("train"), limit=per_topic)
    test, _ = _per_topic(bbc_news("test"), limit=per_topic)
    finetune_train, dev = _per_topic(train, every=dev_every)
    finetune_train, _ = _per_topic(finetune_train, limit=labelled_per_topic)
    labelled = f"_l{labelled_per_topic}" if labelled_per_topic else ""
    files = {"corpus": work / "bbc_train.txt", "test_corpus": work / "bbc_test.txt",
             "train": work / f"train{labelled}.jsonl", "dev": work / "dev.jsonl",
             "test": work / "test.jsonl"}
    write_bert_corpus(train, files["corpus"])
    write_bert_corpus(test, files["test_corpus"])
    for split, docs in (("train", finetune_train), ("dev", dev), ("test", test)):
        write_lines_atomically(files[split], (json.dumps({"text": " ".join(d.lines), "label": d.label})
                                              for d in docs))
    sizes = {"pretrain_articles": len(train), "finetune_train": len(finetune_train),
             "dev": len(dev), "test": len(test)}
    return {k: str(v) for k, v in files.items()}, sizes


def pretrain_options(args, files, steps):
    options = dict(task=args.task, corpus=(files["corpus"],), seq_length=args.seq_length,
                   batch_size=args.batch_size, learning_rate=args.learning_rate,
                   masked_lm_prob=args.masked_lm_prob, steps=steps,
                   warmup_steps=int(args.warmup_fraction * steps), seed=0)
    if args.init:
        return dict(options, init=args.init)
    return dict(options, preset=args.preset, vocab_size=args.vocab_size)


def probe_step_seconds(args, files, work):
    """Seconds per pretraining step, start-up excluded: (time of 25 steps - time of 5) / 20."""
    from kerasllm import training

    seconds = {}
    for steps in (5, 25):
        start = time.perf_counter()
        training.pretrain(**pretrain_options(args, files, steps), output=str(work / f"probe{steps}"),
                          overwrite=True)
        seconds[steps] = time.perf_counter() - start
    return (seconds[25] - seconds[5]) / 20


def budget_steps(args, step_seconds):
    """Steps per budget: ``--budget-steps``, or ``--budgets`` minutes at ``step_seconds`` a step."""
    if args.budget_steps:
        return sorted(args.budget_steps)
    return [max(1, round(m * 60 / step_seconds)) for m in sorted(args.budgets)]


def pretrain_ladder(args, files, work, steps):
    """One pretraining run per budget (its own warm-up and decay to zero), wall time measured.

    Why not one run cut at each budget (``kerasllm.training.snapshot``): a cut
    mid-run has its learning rate still high, so a short budget would be judged by
    a model that was never annealed; a user with that budget runs that many steps.
    """
    from kerasllm import training

    ladder = []
    for step in steps:
        run = work / f"pretrain_{step}"
        if not (run / "model.keras").is_file():
            start = time.time()
            training.pretrain(**pretrain_options(args, files, step), output=str(run), overwrite=True)
            (run / "started_at").write_text(str(start))
        minutes = ((run / "model.keras").stat().st_mtime - float((run / "started_at").read_text())) / 60
        ladder.append({"steps": step, "tokens": step * args.batch_size * args.seq_length,
                       "measured_minutes": round(minutes, 2), "run": str(run)})
    return ladder


def finetune_and_score(args, files, init, lr, seed, out, split):
    """``kerasllm finetune`` (cached by its run directory), scored on ``split``."""
    from kerasllm import training
    from kerasllm.evaluation import evaluate_run

    if not (out / "model.keras").is_file():
        extra = ({"init": "none", "preset": args.preset, "vocab": str(scratch_vocab(args))}
                 if init is None else {"init": init})
        training.finetune(**extra, train=files["train"], epochs=args.finetune_epochs,
                          seq_length=args.finetune_seq_length, batch_size=args.finetune_batch_size,
                          classifier_pooling=args.finetune_pooling, learning_rate=lr, seed=seed,
                          output=str(out), overwrite=True)
    metrics, _ = evaluate_run(str(out), [files[split]], overwrite=True)
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}


def scratch_vocab(args):
    """Budget 0 from scratch uses the vocabulary the pretraining runs learned (all the same)."""
    return sorted(Path(args.work).glob("pretrain_*/vocab.txt"))[0]


def _threads(count):
    """Pool initializer: TensorFlow threads of a fine-tuning process (read when TF starts)."""
    os.environ.update(TF_NUM_INTRAOP_THREADS=str(count), TF_NUM_INTEROP_THREADS="1",
                      TF_CPP_MIN_LOG_LEVEL="2")


def run_jobs(args, files, jobs, done):
    """Each ``(key, (init, lr, seed, out, split))`` fine-tuned and scored; ``done(key, scores)``.

    ``--parallel N`` runs N fine-tunes at once, each in a fresh process with
    cores / N TensorFlow threads: bert_mini's matmuls are too small to keep two
    cores busy, so on 2 cores two 1-thread jobs finish ~1.8x sooner than one after
    another (benchmarks/multi_worker_scaling.py measured the same for training).
    """
    if args.parallel == 1:
        for key, job in jobs:
            done(key, finetune_and_score(args, files, *job))
        return
    threads = max(1, (os.cpu_count() or 1) // args.parallel)
    context = multiprocessing.get_context("spawn")  # a fresh TensorFlow per job
    with futures.ProcessPoolExecutor(args.parallel, mp_context=context, initializer=_threads,
                                     initargs=(threads,), max_tasks_per_child=1) as pool:
        pending = {pool.submit(finetune_and_score, args, files, *job): key for key, job in jobs}
        for future in futures.as_completed(pending):
            done(pending[future], future.result())


def finetune_ladder(args, files, work, ladder, save):
    """Per ladder point: the dev-chosen learning rate, then the seeds on the test articles."""
    recipe = (f"e{args.finetune_epochs}_t{args.finetune_seq_length}_b{args.finetune_batch_size}"
              f"_{args.finetune_pooling}")  # a new recipe never reuses another's runs
    if args.labelled_per_topic:
        recipe += f"_l{args.labelled_per_topic}"

    def out(point, lr, seed):
        return work / f"budget_{point['steps']}" / recipe / f"lr{lr:g}_seed{seed}"

    def dev_done(key, scores):
        point, lr = key
        point.setdefault("dev", {})[f"{lr:g}"] = scores
        save()

    run_jobs(args, files, [((p, lr), (p["run"], lr, args.seeds[0], out(p, lr, args.seeds[0]), "dev"))
                           for p in ladder for lr in args.finetune_lrs], dev_done)
    for point in ladder:
        point["learning_rate"] = max(args.finetune_lrs, key=lambda lr: point["dev"][f"{lr:g}"]["accuracy"])
        point["test"] = []

    def test_done(key, scores):
        point, seed = key
        point["test"] = sorted(point["test"] + [dict(seed=seed, **scores)], key=lambda t: t["seed"])
        save()

    run_jobs(args, files, [((p, seed), (p["run"], p["learning_rate"], seed,
                                        out(p, p["learning_rate"], seed), "test"))
                           for p in ladder for seed in args.seeds], test_done)
    for point in ladder:
        log(f"budget {point['steps']} steps: lr {point['learning_rate']:g}, test accuracy "
            f"{report.mean_se([t['accuracy'] for t in point['test']])['mean']:.4f}")


def work_dir(args, name):
    """Where the ladder's runs live: ``--work``, or ``--work/NAME`` for an ``--init`` ladder,
    whose budget and pretraining folders would otherwise be taken for the from-scratch ones."""
    return Path(args.work) / name if args.init else Path(args.work)


def has_mlm_head(run_dir):
    """Can ``evaluate`` score masked-LM on this run (not an encoder-only import)?"""
    from kerasllm import runs
    return "mlm" in str(runs.read_config(run_dir).get("task"))


def main(argv=None):
    args = parse_args(argv)
    from kerasllm.evaluation import evaluate_run

    name = args.name or Path(args.preset).stem
    work = work_dir(args, name)
    work.mkdir(parents=True, exist_ok=True)
    files, sizes = write_data(work, args.dev_every, args.per_topic, args.labelled_per_topic)
    result = {"benchmark": "pretraining_value", "name": name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": "python benchmarks/pretraining_value.py " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(), "settings": vars(args), "data": sizes, "ladder": []}
    out = Path(args.results) / f"pretraining_value_{name}"
    save = lambda: report.write(result, out)
    step_seconds = args.step_seconds or (None if args.budget_steps else probe_step_seconds(args, files, work))
    result["step_seconds"] = step_seconds
    steps = budget_steps(args, step_seconds)
    log(f"pretraining budgets (steps): {steps}; step {step_seconds} s")
    ladder = [{"steps": 0, "tokens": 0, "measured_minutes": 0.0, "run": args.init}]
    ladder += pretrain_ladder(args, files, work, steps)
    result["ladder"] = ladder
    for point in ladder:
        if point["run"] and has_mlm_head(point["run"]):  # not an encoder-only --init (MiniLM)
            metrics, _ = evaluate_run(point["run"], [files["test_corpus"]], max_examples=512,
                                      overwrite=True)
            point["held_out_mlm"] = {k: metrics[k] for k in ("masked_lm_accuracy", "masked_lm_loss")
                                     if k in metrics}
        if step_seconds:
            point["planned_minutes"] = round(point["steps"] * step_seconds / 60, 2)
        save()
    finetune_ladder(args, files, work, ladder, save)
    print(report.markdown(report.write(result, out)))


if __name__ == "__main__":
    main()
