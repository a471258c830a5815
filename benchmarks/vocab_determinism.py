"""Is the learned WordPiece vocab.txt the same in every process, and how long does learning take?

Learns the vocabulary of one corpus in several fresh processes, each with its own
PYTHONHASHSEED and RAYON_NUM_THREADS (the Rust trainer's thread count), and
prints per run the seconds spent in ``learn_vocabulary`` (imports and reading
the corpus not counted) and the vocab.txt's MD5, then how many lines differ from
the first run's. Every worker of a multi-worker job learns its own copy, so they
must all be identical.

    python benchmarks/vocab_determinism.py                        # BBC train split, size 8000
    python benchmarks/vocab_determinism.py --corpus c.txt --size 100 --learner keras-hub
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LEARN = """
import sys, time
from pathlib import Path
from kerasllm.data.vocab import learn_vocabulary, write_vocabulary
corpus, size, learner, output = sys.argv[1:]
lines = Path(corpus).read_text(encoding="utf-8").splitlines()
began = time.perf_counter()
tokens = learn_vocabulary(lines, int(size), learner=learner)
print(f"{time.perf_counter() - began:.2f}")
write_vocabulary(tokens, output)
"""

SETTINGS = [("1", "2"), ("2", "2"), ("3", "1"), ("4", "1")]  # (PYTHONHASHSEED, RAYON_NUM_THREADS)


def learn_in_fresh_process(corpus, size, learner, output, hash_seed, threads):
    """Seconds ``learn_vocabulary`` took in a new Python process; writes ``output``."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": hash_seed,
           "RAYON_NUM_THREADS": threads, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", LEARN, str(corpus), str(size), learner, str(output)],
                            env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", help="text file, one line per sentence (default: BBC train split)")
    parser.add_argument("--size", type=int, default=8000)
    parser.add_argument("--learner", default="tokenizers", choices=["tokenizers", "keras-hub"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if not corpus:
            from kerasllm.data.datasets import write_bbc_corpus

            corpus = write_bbc_corpus(Path(tmp) / "bbc_train.txt")
        outputs = []
        for hash_seed, threads in SETTINGS:
            output = Path(tmp) / f"vocab-{hash_seed}.txt"
            seconds = learn_in_fresh_process(corpus, args.size, args.learner, output, hash_seed, threads)
            digest = hashlib.md5(output.read_bytes()).hexdigest()
            print(f"PYTHONHASHSEED={hash_seed} RAYON_NUM_THREADS={threads}: {seconds:.2f} s, md5 {digest}")
            outputs.append(output.read_text(encoding="utf-8").splitlines())
        first = outputs[0]
        for i, other in enumerate(outputs[1:], start=2):
            moved = sum(a != b for a, b in zip(first, other)) + abs(len(first) - len(other))
            print(f"run {i} vs run 1: {moved} of {len(first)} lines differ, "
                  f"{len(set(first) ^ set(other))} tokens in only one of them")
        identical = all(other == first for other in outputs)
        print("identical" if identical else "DIFFERENT")
        return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
