"""classify-zero-shot: label descriptions or examples, nearest prototype, no training."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.zero_shot import classify_zero_shot, label_prototypes, parse_label_spec, parse_labels

LABELS = ("sport=football tennis and athletics,business=companies shares and markets,"
          "tech=computers phones and the internet")
TEXTS = ["Chelsea beat Arsenal two nil in the league.", "Shares in the retailer fell 5%.",
         "The new laptop has a faster processor."]


def test_parse_label_spec():
    assert parse_label_spec("a, b=the b things ,a=more a") == {"a": ["a", "more a"],
                                                               "b": ["the b things"]}
    with pytest.raises(KerasLLMError, match=r"item 2 \('=x'\) has no label name"):
        parse_label_spec("a,=x")
    assert parse_labels(["a=x, y", "b"]) == {"a": ["x, y"], "b": ["b"]}  # --label keeps commas
    with pytest.raises(KerasLLMError, match="received 1 label"):
        parse_label_spec("only")


def test_descriptions_classify_real_sentences(minilm_run):
    names, prototypes = label_prototypes(minilm_run, parse_label_spec(LABELS))
    assert names == ["sport", "business", "tech"] and prototypes.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(prototypes, axis=-1), 1.0, atol=1e-5)
    scores, predicted = classify_zero_shot(minilm_run, TEXTS, names, prototypes)
    assert predicted == ["sport", "business", "tech"]
    assert scores.shape == (3, 3) and np.all(scores.max(-1) > 0.15)


def test_cli_examples_centroids_and_evaluate(minilm_run, tmp_path):
    examples = tmp_path / "examples.jsonl"
    rows = [("The striker scored a late winner.", "sport"), ("Tennis star wins the final.", "sport"),
            ("The bank reported record profits.", "business"),
            ("Oil prices pushed the stock market down.", "business"),
            ("A new phone app tracks your sleep.", "tech"), ("Chip makers race to build AI servers.", "tech")]
    examples.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows))
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text("".join(json.dumps({"text": t, "label": label}) + "\n"
                                for t, label in zip(TEXTS, ["sport", "business", "tech"])))
    runner = CliRunner()
    base = ["classify-zero-shot", str(minilm_run.path), "--examples", str(examples)]
    result = runner.invoke(cli, ["classify-zero-shot", str(minilm_run.path), "--text", TEXTS[1],
                                 "--label", "sport=football, tennis", "--label",
                                 "business=companies, shares, markets"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("business\tbusiness=")
    result = runner.invoke(cli, base + ["--text", TEXTS[0], "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["label"] == "sport" and sorted(row["scores"]) == ["business", "sport", "tech"]
    result = runner.invoke(cli, base + ["--evaluate", str(held_out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["accuracy: 1.0000", "macro_f1: 1.0000", "examples: 3"]


def test_cli_errors_are_one_line(minilm_run, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["classify-zero-shot", str(minilm_run.path), "--text", "x"])
    assert result.exit_code == 2 and "Pass exactly one of --labels NAMES" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "x"}\n{"text": "b"}\n')
    result = runner.invoke(cli, ["classify-zero-shot", str(minilm_run.path), "--examples", str(bad),
                                 "--text", "x"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {bad}:2: key 'label': missing column (or null); found "
                                     f"columns text. Name the right one with the column options.")
