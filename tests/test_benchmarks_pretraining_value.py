"""The pretraining-value benchmark (issue 23, item 2): the dev split, the goal arithmetic, and a
tiny end-to-end ladder (scratch and one pretraining budget, dev-chosen fine-tuning) that
resumes from its run directories."""
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from training_helpers import write_data

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import pretraining_value  # noqa: E402
import pretraining_value_report as report  # noqa: E402


def test_dev_split_takes_every_nth_article_of_each_topic_and_never_a_test_one():
    docs = [SimpleNamespace(label=label, lines=[f"{label} {i}"]) for i in range(10)
            for label in ("a", "b")]
    kept, dev = pretraining_value._per_topic(docs, every=5)
    assert [d.lines[0] for d in dev] == ["a 4", "b 4", "a 9", "b 9"]
    assert len(kept) == 16 and not {id(d) for d in kept} & {id(d) for d in dev}
    few, _ = pretraining_value._per_topic(docs, limit=3)
    assert [d.lines[0] for d in few] == ["a 0", "b 0", "a 1", "b 1", "a 2", "b 2"]


def test_few_labels_keeps_the_first_articles_of_each_topic_and_the_same_dev_and_test(tmp_path):
    def rows(path):
        return [json.loads(line) for line in Path(path).read_text().splitlines()]

    (tmp_path / "full").mkdir(), (tmp_path / "few").mkdir()
    full, full_sizes = pretraining_value.write_data(tmp_path / "full", 7, None)
    few, few_sizes = pretraining_value.write_data(tmp_path / "few", 7, None, labelled_per_topic=4)
    assert few_sizes == dict(full_sizes, finetune_train=4 * 5)
    assert Path(few["train"]).name == "train_l4.jsonl"
    seen = {}
    first_four = [r for r in rows(full["train"])
                  if seen.setdefault(r["label"], []).append(r) or len(seen[r["label"]]) <= 4]
    assert rows(few["train"]) == first_four  # the first 4 of each topic, in file order
    for split in ("dev", "test", "corpus"):
        assert Path(few[split]).read_bytes() == Path(full[split]).read_bytes()


def _point(steps, accuracies, minutes):
    return {"steps": steps, "measured_minutes": minutes,
            "test": [{"seed": i, "accuracy": a, "macro_f1": a} for i, a in enumerate(accuracies)]}


def test_an_init_ladder_has_its_own_folder_and_skips_mlm_scoring_of_an_encoder(tmp_path):
    """The MiniLM ladder (item 4): its budget_0 is MiniLM, not the from-scratch model, so it
    must never share the scratch ladder's folders; and an encoder import has no MLM head."""
    from tiny_runs import bert_run

    args = pretraining_value.parse_args(["--work", str(tmp_path), "--init", "runs/minilm",
                                         "--name", "minilm"])
    assert pretraining_value.work_dir(args, "minilm") == tmp_path / "minilm"
    scratch = pretraining_value.parse_args(["--work", str(tmp_path)])
    assert pretraining_value.work_dir(scratch, "bert_mini") == tmp_path
    assert not pretraining_value.has_mlm_head(bert_run(tmp_path / "encoder", "encoder").path)
    assert pretraining_value.has_mlm_head(bert_run(tmp_path / "mlm", "mlm+nsp").path)


def test_goal_needs_two_points_within_45_minutes_and_finds_the_crossing():
    result = {"settings": {"seeds": [0, 1, 2]}, "ladder": [
        _point(0, [0.80, 0.81, 0.82], 0), _point(100, [0.80, 0.80, 0.80], 5),
        _point(300, [0.82, 0.83, 0.84], 15), _point(900, [0.90, 0.90, 0.90], 60)]}
    report.summarise(result)
    assert result["ladder"][2]["gain_points"] == pytest.approx(2.0)
    assert result["goal"]["met"] and result["goal"]["best_steps"] == 300  # 60 min is over budget
    assert result["crossing"] == {"steps": 300, "minutes": 15}
    result["ladder"][2]["test"][0]["accuracy"] = 0.80
    assert not report.summarise(result)["goal"]["met"]


@pytest.mark.slow
def test_tiny_ladder_end_to_end_and_resume(tmp_path):
    data = write_data(tmp_path)
    argv = ["--preset", str(data / "bert.yaml"), "--name", "tiny", "--budget-steps", "2",
            "--seq-length", "32", "--batch-size", "4", "--vocab-size", "300", "--per-topic", "6",
            "--dev-every", "3", "--finetune-lrs", "1e-3", "1e-2", "--finetune-epochs", "1",
            "--finetune-batch-size", "8", "--seeds", "0", "1",
            "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results")]
    pretraining_value.main(argv)
    result = json.loads((tmp_path / "results" / "pretraining_value_tiny.json").read_text())
    assert result["data"] == {"pretrain_articles": 30, "finetune_train": 20, "dev": 10, "test": 30}
    assert [p["steps"] for p in result["ladder"]] == [0, 2]
    assert [p["tokens"] for p in result["ladder"]] == [0, 256]
    for point in result["ladder"]:
        assert set(point["dev"]) == {"0.001", "0.01"}
        assert point["learning_rate"] == max((1e-3, 1e-2), key=lambda lr: point["dev"][f"{lr:g}"]["accuracy"])
        assert [t["seed"] for t in point["test"]] == [0, 1]
        assert 0.0 <= point["accuracy"]["mean"] <= 1.0 and point["accuracy"]["n"] == 2
    assert "masked_lm_accuracy" in result["ladder"][1]["held_out_mlm"]
    assert (tmp_path / "results" / "pretraining_value_tiny.png").stat().st_size > 1000
    work = tmp_path / "work"
    stamps = {p: p.stat().st_mtime for p in work.glob("budget_*/e1_t32_b8_cls/*/model.keras")}
    assert len(stamps) == 2 * 3  # per budget: 2 dev learning rates + seed 1 (seed 0 reused)
    # A second invocation trains nothing again; its scoring runs in 2 worker processes and agrees.
    pretraining_value.main(argv + ["--parallel", "2"])
    assert {p: p.stat().st_mtime for p in work.glob("budget_*/*/*/model.keras")} == stamps
    again = json.loads((tmp_path / "results" / "pretraining_value_tiny.json").read_text())
    assert [p["test"] for p in again["ladder"]] == [p["test"] for p in result["ladder"]]
    assert [p["dev"] for p in again["ladder"]] == [p["dev"] for p in result["ladder"]]
