"""Small SQuAD-format data for the question-answering tests: who lives where."""
import json
import random
from pathlib import Path

PEOPLE = "alice bob carol dave erin frank grace heidi".split()
CITIES = ["paris", "rome", "new york", "london", "san diego", "oslo", "cairo", "lima"]
BERT_YAML = ("family: bert\nmodel:\n  num_layers: 2\n  hidden_dim: 32\n  num_heads: 2\n"
             "  intermediate_dim: 64\n  max_sequence_length: 64\n"
             "training:\n  batch_size: 8\n  learning_rate: 0.001\n  warmup_steps: 2\n")


HOBBIES = ["plays chess", "likes football", "reads books", "sings songs", "paints walls"]


def squad(n, seed=0, impossible=0.0):
    """A SQuAD v1.1 object (v2.0 when ``impossible`` > 0) of ``n`` paragraphs: one person's
    city among 1-4 sentences about others' hobbies, at a random place in the context; with
    probability ``impossible`` a paragraph names no city and its question has no answer."""
    rng = random.Random(seed)
    paragraphs = []
    for p in range(n):
        people = rng.sample(PEOPLE, 5)
        city = rng.choice(CITIES).title()
        sentences = [f"{name.title()} {rng.choice(HOBBIES)}." for name in people[1:rng.randint(2, 5)]]
        none = rng.random() < impossible
        if not none:
            sentences.insert(rng.randint(0, len(sentences)), f"{people[0].title()} lives in {city}.")
        context = " ".join(sentences)
        qa = {"id": str(p), "question": f"Where does {people[0]} live?", "answers": []}
        if none:
            qa["is_impossible"] = True
        else:
            start = context.index(f" lives in {city}") + len(" lives in ")
            qa["answers"] = [{"text": city, "answer_start": start}]
        paragraphs.append({"context": context, "qas": [qa]})
    return {"version": "2.0" if impossible else "1.1", "data": [{"title": "homes",
                                                                  "paragraphs": paragraphs}]}


def write_squad(path, n, seed=0, impossible=0.0):
    Path(path).write_text(json.dumps(squad(n, seed, impossible)), encoding="utf-8")
    return Path(path)


def train_answerer(root, impossible=0.0):
    """Write the QA fixtures under ``root`` and fine-tune a tiny answerer into root/run."""
    from click.testing import CliRunner

    from kerasllm.cli.main import cli

    root = Path(root)
    write_squad(root / "train.json", 160, seed=0, impossible=impossible)
    write_squad(root / "dev.json", 30, seed=1, impossible=impossible)
    (root / "bert.yaml").write_text(BERT_YAML)
    result = CliRunner().invoke(cli, [
        "finetune", "--task", "qa", "--init", "none", "--preset", str(root / "bert.yaml"),
        "--train", str(root / "train.json"), "--eval", str(root / "dev.json"),
        "--vocab-size", "100", "--seq-length", "48", "--max-query-length", "16",
        "--batch-size", "16", "--epochs", "16", "--learning-rate", "3e-3",
        "--output", str(root / "run")], catch_exceptions=False)
    assert result.exit_code == 0, result.output[-3000:]
    return root
