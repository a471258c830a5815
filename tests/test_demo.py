"""`kerasllm demo --quick`: the README's main job, end to end, on the bundled BBC data."""
import json

import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli


@pytest.mark.slow
def test_quick_demo_runs_every_stage_and_serves_raw_text(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--quick", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "demo_summary.json").read_text())
    for name in ("held_out_accuracy_pretrained", "held_out_accuracy_scratch"):
        assert 0.0 <= summary[name] <= 1.0
    assert 1.0 < summary["lstm_perplexity"] < 2000  # vocabulary is 2000 words
    assert summary["lstm_sample"].startswith("the government said")
    assert summary["savedmodel_from"] == "classifier"  # --quick skips the MiniLM stage
    served = summary["served_predictions"]
    labels = {"business", "entertainment", "politics", "sports", "tech"}
    assert len(served) == 5 and all(row["predicted"] in labels for row in served)
    for run in ("pretrain", "classifier", "classifier_scratch", "lstm_lm"):
        assert (tmp_path / run / "model.keras").is_file()
        assert (tmp_path / run / "metrics.json").is_file()
    assert "held-out topic accuracy" in result.output
    assert "export: tracing the raw-text signatures" in result.output  # no silent minutes
