"""Tiny data, presets and subprocess runners shared by the training tests."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORDS = ("the cat dog sat on mat ran fast slow big small red blue house tree car road "
         "city river sun moon star sky").split()


def write_data(root):
    """corpus.txt (documents of sentences), train.csv / eval.csv, tiny BERT and LSTM presets."""
    root = Path(root)
    rng = random.Random(0)

    def sentence(n):
        return " ".join(rng.choice(WORDS) for _ in range(n)) + " ."

    docs = ["\n".join(sentence(rng.randint(4, 9)) for _ in range(6)) for _ in range(30)]
    (root / "corpus.txt").write_text("\n\n".join(docs) + "\n")
    rows = ["text,label"]
    for _ in range(48):
        label = rng.choice(["pos", "neg"])
        cue = ["sun", "star", "sky"] if label == "pos" else ["road", "car", "city"]
        rows.append(" ".join(rng.choice(cue + WORDS[:6]) for _ in range(6)) + f",{label}")
    (root / "train.csv").write_text("\n".join(rows) + "\n")
    (root / "eval.csv").write_text("\n".join(rows[:17]) + "\n")
    (root / "bert.yaml").write_text(
        "family: bert\nmodel:\n  num_layers: 1\n  hidden_dim: 16\n  num_heads: 2\n"
        "  intermediate_dim: 32\n  max_sequence_length: 32\n"
        "training:\n  batch_size: 8\n  learning_rate: 0.001\n  warmup_steps: 2\n")
    (root / "lstm.yaml").write_text(
        "family: lstm\nmodel:\n  embedding_dim: 16\n  units: 16\n  num_layers: 1\n"
        "training:\n  batch_size: 4\n  seq_length: 8\n  learning_rate: 1.0\n"
        "  epochs: 2\n  decay_start_epoch: 1\n")
    return root


def lm_args(data, output, *extra):
    """train-lm arguments on the tiny corpus (vocab 50, 1 x 16 LSTM)."""
    return ["train-lm", "--preset", str(data / "lstm.yaml"), "--corpus", str(data / "corpus.txt"),
            "--vocab-size", "50", "--output", str(output), *extra]


def env(**extra):
    """Environment for a kerasllm subprocess (quiet TF, one thread pool each)."""
    out = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "tensorflow", **extra}
    out.pop("TF_CONFIG", None)
    out.update({k: v for k, v in extra.items()})
    return out


def command(args):
    return [sys.executable, "-m", "kerasllm.cli.main", *args]


def run_cli(args, timeout=300, **environ):
    """Run ``kerasllm ARGS`` in a subprocess; returns CompletedProcess (text)."""
    return subprocess.run(command(args), cwd=REPO, env=env(**environ), capture_output=True,
                          text=True, timeout=timeout)


def metrics(run_dir):
    return json.loads((Path(run_dir) / "metrics.json").read_text())
