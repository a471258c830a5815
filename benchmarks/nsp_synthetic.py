"""Does next-sentence prediction learn at all? A corpus where it is easy (issue 23, item 1).

On the BBC articles held-out NSP accuracy sits at the commoner label's rate for
item 1's 2,000 steps. To tell a defect in the pair path (labels, segments,
pooler, head) from a budget that is too small, this writes a corpus where NSP
is easy: ``--topics`` disjoint vocabularies of ``--words`` made-up words each,
every document written from one of them, so a random B (from another document)
almost always comes from another vocabulary, while a real next sentence never
does. ``kerasllm pretrain --task nsp`` runs on it, keeping a checkpoint every
``--every`` steps; each is cut into a run (``kerasllm.training.snapshot``) and
scored by ``kerasllm evaluate`` on held-out documents it never saw.

The vocabulary is written here, not learned: the special tokens, "." and every
made-up word, so each word is one token and the topics are disjoint as the model
sees them. A learned WordPiece vocabulary of the old size (topics x words + 200)
kept 186 of the 400 words whole and split the rest into syllables that every
topic shares; on that, NSP stayed at the commoner label's rate for 2,000 steps
in three seeds (2026-12-05), which tested the vocabulary learner, not NSP.

    python benchmarks/nsp_synthetic.py                 # bert_tiny, 2,000 steps, lr 1e-3
    python benchmarks/nsp_synthetic.py --learning-rate 1e-4 --steps 400
"""
import argparse
import json
import random
import sys
import time
from pathlib import Path

from common import log, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="bert_tiny")
    p.add_argument("--topics", type=int, default=10)
    p.add_argument("--words", type=int, default=40, help="Words per topic vocabulary.")
    p.add_argument("--train-docs", type=int, default=200)
    p.add_argument("--heldout-docs", type=int, default=40)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--every", type=int, default=250, help="Steps between held-out scores.")
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--warmup-steps", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", default="runs/nsp_synthetic")
    p.add_argument("--results", default=str(RESULTS))
    return p.parse_args(argv)


def topic_vocabularies(topics, words, rng):
    """``topics`` disjoint lists of ``words`` distinct made-up words (3 syllables each)."""
    pool = set()
    while len(pool) < topics * words:
        pool.add("".join(rng.choice(SYLLABLES) for _ in range(3)))
    pool = sorted(pool)
    rng.shuffle(pool)
    return [pool[i * words:(i + 1) * words] for i in range(topics)]


def write_corpus(path, vocabularies, documents, rng):
    """BERT layout: ``documents`` documents, topic i % topics, 8-14 sentences of 5-12 words."""
    docs = []
    for i in range(documents):
        words = vocabularies[i % len(vocabularies)]
        docs.append("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) + " ."
                              for _ in range(rng.randint(8, 14))))
    path.write_text("\n\n".join(docs) + "\n", encoding="utf-8")
    return str(path)


def write_word_vocabulary(path, vocabularies):
    """vocab.txt of the special tokens, "." and every word whole (see the module docstring)."""
    from kerasllm.data.special_tokens import SPECIAL_TOKENS
    from kerasllm.data.vocab import write_vocabulary

    return write_vocabulary([*SPECIAL_TOKENS, ".", *sorted(set().union(*vocabularies))], path)


def main(argv=None):
    args = parse_args(argv)
    from kerasllm import training
    from kerasllm.evaluation import evaluate_run
    from kerasllm.training.snapshot import snapshot_run

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    vocabularies = topic_vocabularies(args.topics, args.words, rng)
    train = write_corpus(work / "train.txt", vocabularies, args.train_docs, rng)
    vocab = write_word_vocabulary(work / "vocab.txt", vocabularies)
    heldout = write_corpus(work / "heldout.txt", vocabularies, args.heldout_docs, rng)
    run, start = work / "pretrain", time.time()
    if not (run / "model.keras").is_file():
        training.pretrain(preset=args.preset, task="nsp", corpus=(train,), vocab=str(vocab),
                          seq_length=args.seq_length,
                          batch_size=args.batch_size, learning_rate=args.learning_rate,
                          warmup_steps=args.warmup_steps, steps=args.steps, seed=args.seed,
                          checkpoint_every=args.every, keep_checkpoints=args.steps // args.every + 1,
                          output=str(run))
    curve = []
    for step in range(args.every, args.steps + 1, args.every):
        target = run if step == args.steps else snapshot_run(run, step, work / f"step_{step}")
        metrics, _ = evaluate_run(str(target), [heldout], overwrite=True, seed=args.seed)
        curve.append({"step": step, "nsp_accuracy": metrics["nsp_accuracy"],
                      "examples": metrics["examples"]})
        log(f"step {step}: held-out NSP accuracy {metrics['nsp_accuracy']:.3f}")
    result = {"benchmark": "nsp_synthetic", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "command": "python benchmarks/nsp_synthetic.py " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(), "settings": vars(args), "wall_s": round(time.time() - start),
              "chance_ceiling": round(1 - 0.5 / args.topics, 3), "curve": curve}
    seed = f"_seed{args.seed}" if args.seed else ""
    out = Path(args.results) / f"nsp_synthetic_{Path(args.preset).stem}{seed}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(" | ".join(f"{c['step']}: {c['nsp_accuracy']:.3f}" for c in curve))
    return result


if __name__ == "__main__":
    main()
