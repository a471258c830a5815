"""Throughput of 1, 2 and 4 worker processes (``kerasllm launch``) against one process
with the same total threads, on this machine's CPU.

Every configuration trains the same job with the same global batch: one process
with T intra-op threads, then N workers with T/N threads each (``--threads-per-worker``,
so the workers do not fight over cores) and per-worker batch B/N. Tokens/s is the
chief's ``metrics.json`` figure (steps after resume / ``fit`` time, so process
start-up is not counted; the first step's tracing is, which ``--steps`` amortises).

    python benchmarks/multi_worker_scaling.py                      # bert_tiny, 60 steps
    python benchmarks/multi_worker_scaling.py --steps 5 --workers 1 2   # a smoke run

Run it on a quiet machine (``uptime`` load well under the core count): workers on a
busy machine measure the other jobs. Prints a Markdown table; ``--json`` writes the rows.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _job(preset, corpus, vocab, batch, steps, out):
    return ["pretrain", "--preset", preset, "--task", "mlm", "--corpus", corpus, "--vocab", vocab,
            "--seq-length", "128", "--batch-size", str(batch), "--steps", str(steps),
            "--checkpoint-every", str(steps), "--output", str(out)]


def _run(args, threads):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0",
           "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
           "OMP_NUM_THREADS": str(threads)}
    env.pop("TF_CONFIG", None)
    began = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kerasllm.cli.main", *args], cwd=REPO, env=env,
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(args[:6])} ... failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return time.perf_counter() - began


def measure(workers, threads, global_batch, preset, corpus, vocab, steps, root):
    out = Path(root) / f"w{workers}"
    job = _job(preset, corpus, vocab, global_batch // workers, steps, out)
    if workers == 1:
        wall = _run(job, threads)
    else:
        wall = _run(["launch", "--workers", str(workers), "--threads-per-worker",
                     str(max(threads // workers, 1)), "--", *job], threads)
    metrics = json.loads((out / "metrics.json").read_text())
    return {"workers": workers, "threads_per_worker": max(threads // workers, 1),
            "batch_per_worker": global_batch // workers, "tokens_per_second": metrics["tokens_per_second"],
            "steps_per_second": metrics["steps_per_second"], "wall_s": round(wall, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="bert_tiny")
    parser.add_argument("--corpus", default=None, help="corpus file (default: the bundled BBC News train split)")
    parser.add_argument("--vocab", required=False, help="vocab.txt (default: learned once, shared)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="total intra-op threads")
    parser.add_argument("--global-batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average at start: {load:.2f} on {os.cpu_count()} cores", file=sys.stderr)
    with tempfile.TemporaryDirectory() as root:
        if args.corpus is None:
            from kerasllm.data.datasets import write_bbc_corpus

            args.corpus = str(Path(root) / "bbc_train.txt")
            write_bbc_corpus(args.corpus, "train")
        vocab = args.vocab
        if vocab is None:  # one vocabulary for every configuration
            vocab = str(Path(root) / "vocab.txt")
            subprocess.run([sys.executable, "-m", "kerasllm.cli.main", "vocab", "--corpus", args.corpus,
                            "--size", "2000", "--output", vocab], cwd=REPO, check=True,
                           capture_output=True)
        rows = [measure(n, args.threads, args.global_batch, args.preset, args.corpus, vocab, args.steps, root)
                for n in args.workers]
    base = rows[0]["tokens_per_second"]
    print("| workers | threads each | batch each | tokens/s | vs first row | wall s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workers']} | {r['threads_per_worker']} | {r['batch_per_worker']} | "
              f"{r['tokens_per_second']:.0f} | {r['tokens_per_second'] / base:.2f}x | {r['wall_s']} |")
    if args.json:
        from common import machine_info

        record = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_info(),
                  "load_average_at_start": load, "command": " ".join(["python", *sys.argv]),
                  "preset": args.preset, "global_batch": args.global_batch, "steps": args.steps,
                  "seq_length": 128, "rows": rows}
        args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
