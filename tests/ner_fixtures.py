"""Small tagged data for the NER tests: names and places in filler sentences, CoNLL and JSONL."""
import json
import random
from pathlib import Path

PEOPLE = [["alice"], ["bob", "smith"], ["carol"], ["dave", "jones"], ["erin"]]
PLACES = [["paris"], ["new", "york"], ["london"], ["rome"], ["san", "diego"]]
FILLER = "the met in today went to and from saw a big city with friends later".split()
BERT_YAML = ("family: bert\nmodel:\n  num_layers: 1\n  hidden_dim: 32\n  num_heads: 2\n"
             "  intermediate_dim: 64\n  max_sequence_length: 64\n"
             "training:\n  batch_size: 8\n  learning_rate: 0.001\n  warmup_steps: 2\n")


def _entity(words, kind, scheme):
    if scheme == "bioes":
        if len(words) == 1:
            return [(words[0], f"S-{kind}")]
        middle = [(w, f"I-{kind}") for w in words[1:-1]]
        return [(words[0], f"B-{kind}"), *middle, (words[-1], f"E-{kind}")]
    return [(words[0], f"B-{kind}")] + [(w, f"I-{kind}") for w in words[1:]]


def sentences(n, seed=0, scheme="bio"):
    """``n`` sentences as lists of (word, tag): 1-3 people / places in random order, with
    0-3 filler words around each, so a tagger must learn the names, not their positions."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 3)):
            words += [(w, "O") for w in rng.sample(FILLER, rng.randint(0, 3))]
            kind, names = rng.choice([("PER", PEOPLE), ("LOC", PLACES)])
            words += _entity(rng.choice(names), kind, scheme)
        words += [(w, "O") for w in rng.sample(FILLER, rng.randint(0, 2))] + [(".", "O")]
        out.append(words)
    return out


def write_conll(path, rows, docstart=True):
    """CoNLL with a POS-like middle column, tabs, -DOCSTART- and whitespace-only separators."""
    lines = ["-DOCSTART- -X- O", ""] if docstart else []
    for row in rows:
        lines += [f"{w}\tX\t{t}" for w, t in row]
        lines.append("   ")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def write_jsonl(path, rows):
    Path(path).write_text("".join(json.dumps({"tokens": [w for w, _ in r], "tags": [t for _, t in r]})
                                  + "\n" for r in rows), encoding="utf-8")
    return Path(path)


def train_tagger(root):
    """Write the NER fixtures under ``root`` and fine-tune a tiny tagger into root/run."""
    from click.testing import CliRunner

    from kerasllm.cli.main import cli

    root = Path(root)
    write_conll(root / "train.conll", sentences(96, seed=0))
    write_conll(root / "eval.conll", sentences(24, seed=1))
    (root / "bert.yaml").write_text(BERT_YAML)
    result = CliRunner().invoke(cli, [
        "finetune", "--task", "ner", "--init", "none", "--preset", str(root / "bert.yaml"),
        "--train", str(root / "train.conll"), "--eval", str(root / "eval.conll"),
        "--vocab-size", "100", "--seq-length", "32", "--batch-size", "8", "--epochs", "6",
        "--learning-rate", "3e-3", "--output", str(root / "run")], catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return root
