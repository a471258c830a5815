"""The demo's all-MiniLM-L6-v2 stage on a few BBC articles per topic: import, no-training
classification (descriptions and centroids) and fine-tuning all run and score."""
import click
import pytest

from kerasllm.cli.demo_cmd import SETTINGS
from kerasllm.cli.demo_encoder import pretrained_encoder_stage
from kerasllm.data.datasets import write_bbc_classification

pytestmark = pytest.mark.slow  # imports, fine-tunes and saves a 22M-parameter model: ~30 s


def test_stage_scores_on_a_few_articles(tmp_path, minilm_run):  # the fixture skips without it
    data = tmp_path / "data"
    data.mkdir()
    write_bbc_classification(data / "train.jsonl", "train")
    write_bbc_classification(data / "test.jsonl", "test")
    with click.Context(click.Command("demo")) as ctx:
        results = pretrained_encoder_stage(ctx, tmp_path, data, SETTINGS["quick"], True)
    assert results["test_articles"] == 20  # 4 per topic
    for name in ("descriptions", "centroids", "finetuned"):
        assert 0.0 <= results[name]["macro_f1"] <= results[name]["accuracy"] + 0.2
    # Even 4 examples per topic and 32 tokens separate BBC topics far above chance (0.2).
    assert results["centroids"]["accuracy"] >= 0.6 and results["descriptions"]["accuracy"] >= 0.5
    assert (tmp_path / "classifier_minilm" / "model.keras").is_file()
    assert (tmp_path / "minilm" / "config.yaml").is_file()


def test_the_fine_tuned_minilm_classifier_is_what_the_demo_serves(tmp_path, minilm_run):
    """Stage 7 exports the fine-tuned MiniLM classifier when stage 5 ran; it serves raw text."""
    from kerasllm.cli.demo_cmd import _serve_from_savedmodel
    from kerasllm.cli.export_cmd import export
    from kerasllm.data.datasets import BBC_LABELS, bbc_news

    data = tmp_path / "data"
    data.mkdir()
    write_bbc_classification(data / "train.jsonl", "train")
    write_bbc_classification(data / "test.jsonl", "test")
    with click.Context(click.Command("demo")) as ctx:
        pretrained_encoder_stage(ctx, tmp_path, data, SETTINGS["quick"], True)
        ctx.invoke(export, run_dir=str(tmp_path / "classifier_minilm"),
                   output=str(tmp_path / "serving"))
    served = _serve_from_savedmodel(tmp_path / "serving" / "1", bbc_news("test")[::90][:5])
    assert len(served) == 5
    for true, predicted, probability, _ in served:
        assert predicted in BBC_LABELS and 1 / len(BBC_LABELS) <= probability <= 1.0
