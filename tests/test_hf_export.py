"""kerasllm runs -> Hugging Face checkpoints that transformers loads and reproduces (1e-5)."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from hf_checkpoints import make_vocab, random_inputs, save_checkpoint  # noqa: E402
from kerasllm.checkpoints import export_checkpoint, import_checkpoint  # noqa: E402
from kerasllm.errors import KerasLLMError  # noqa: E402
from kerasllm.runs import load_run, save_run  # noqa: E402
from tiny_runs import bert_run  # noqa: E402

ROUND_TRIP = 1e-5
POSITIONS = np.array([[1, 2], [3, 1], [2, 4]], dtype="int32")
TINY = dict(vocabulary_size=200, num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=48,
            max_sequence_length=32, num_segments=2, dropout=0.1, activation="gelu",
            layer_norm_epsilon=1e-12)

torch.set_num_threads(1)
pytestmark = pytest.mark.slow  # torch + transformers + TF in one process: ~10-30 s per test


def kerasllm_run(run_dir, task, labels=None):
    """A run as training leaves it: a freshly initialised kerasllm model + vocab."""
    return bert_run(run_dir, task, labels, sizes=TINY, vocab=make_vocab(TINY["vocabulary_size"]))


def keras_outputs(run, task, inputs):
    """Our outputs under the names transformers uses for the same class."""
    if task == "encoder":
        return {"last_hidden_state": run.model(inputs)["sequence_output"]}
    if task == "mlm+nsp":
        out = run.model({**inputs, "mask_positions": POSITIONS})
        return {"prediction_logits": out["mlm"], "seq_relationship_logits": out["nsp"]}
    if task == "mlm":
        return {"logits": run.model({**inputs, "mask_positions": POSITIONS})}
    return {"logits": run.model(inputs)}  # nsp, classify


@pytest.mark.parametrize("task", ["mlm+nsp", "mlm", "nsp", "classify", "encoder"])
def test_kerasllm_run_round_trips_through_transformers(tmp_path, task):
    labels = ["neg", "pos", "neutral"] if task == "classify" else None
    run = kerasllm_run(tmp_path / "run", task, labels)
    architecture = export_checkpoint(tmp_path / "run", tmp_path / "hf")
    assert sorted(p.name for p in (tmp_path / "hf").iterdir()) == [
        "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    hf_model, info = getattr(transformers, architecture).from_pretrained(
        str(tmp_path / "hf"), output_loading_info=True)
    assert not any(info.values()), info  # no missing / unexpected / mismatched tensors
    inputs = random_inputs(vocab_size=TINY["vocabulary_size"], num_segments=2, length=10, seed=3)
    with torch.no_grad():
        ref = hf_model.eval()(input_ids=torch.tensor(inputs["token_ids"]).long(),
                              token_type_ids=torch.tensor(inputs["segment_ids"]).long(),
                              attention_mask=torch.tensor(inputs["padding_mask"]).long())
    deltas = {}
    for name, ours in keras_outputs(run, task, inputs).items():
        theirs = ref[name].numpy()
        if name in ("prediction_logits", "logits") and task in ("mlm", "mlm+nsp"):
            theirs = np.take_along_axis(theirs, POSITIONS[:, :, None], axis=1)
        deltas[name] = float(np.abs(np.asarray(ours) - theirs).max())
    if task == "classify":
        assert hf_model.config.id2label == dict(enumerate(labels))
    print(f"export-hf {architecture} round trip max |delta|: {deltas}")
    assert max(deltas.values()) <= ROUND_TRIP


def test_import_export_import_is_lossless(tmp_path):
    """HF -> run -> HF gives back the very same tensors and tokenizer settings."""
    save_checkpoint(tmp_path / "hf", "BertForMaskedLM", seed=4, lowercase=False,
                    hidden_act="gelu_new", layer_norm_eps=1e-6)
    import_checkpoint(tmp_path / "hf", tmp_path / "run")
    assert export_checkpoint(tmp_path / "run", tmp_path / "out") == "BertForMaskedLM"
    from safetensors.numpy import load_file

    original, exported = (load_file(str(d / "model.safetensors")) for d in
                          (tmp_path / "hf", tmp_path / "out"))
    assert sorted(original) == sorted(exported)
    assert max(np.abs(original[k] - exported[k]).max() for k in original) == 0.0
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["hidden_act"] == "gelu_new" and config["layer_norm_eps"] == 1e-6
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "out"))
    run = load_run(tmp_path / "run")
    text = "The Cat sat on the MAT in Paris"
    assert tokenizer(text, add_special_tokens=False)["input_ids"] == \
        np.asarray(run.tokenizer.tokenize(text)).tolist()


def test_export_refuses_lstm_run(tmp_path):
    config = {"job": "train-lm", "task": "lm", "family": "lstm", "preset": None, "model": {},
              "tokenizer": {"type": "word"}, "seq_length": 20}
    save_run(tmp_path / "run", config, None, ["<unk>", "<eos>", "a"])
    with pytest.raises(KerasLLMError, match="needs a BERT run"):
        export_checkpoint(tmp_path / "run", tmp_path / "out")


def test_cli_import_then_export(tmp_path):
    from click.testing import CliRunner

    from kerasllm.cli.main import cli

    save_checkpoint(tmp_path / "hf", "BertForSequenceClassification", seed=6,
                    labels=["a", "b"])
    runner = CliRunner()
    result = runner.invoke(cli, ["import-hf", str(tmp_path / "hf"), "--output",
                                 str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "as task classify: 3 layers, hidden 96, 6 heads, vocab 1000" in result.output
    assert (tmp_path / "run" / "labels.txt").read_text() == "a\nb\n"
    result = runner.invoke(cli, ["export-hf", str(tmp_path / "run"), "--output",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "BertForSequenceClassification" in result.output
    assert json.loads((tmp_path / "out" / "config.json").read_text())["id2label"] == {
        "0": "a", "1": "b"}


def test_export_refuses_a_mean_pooled_classifier(tmp_path):
    """BertForSequenceClassification reads [CLS] through the pooler: another model."""
    from kerasllm.models import BertClassifier, BertEncoder

    model = BertClassifier(BertEncoder(**TINY), num_classes=2, pooling="mean")
    save_run(tmp_path / "run", {"job": "finetune", "task": "classify", "family": "bert",
                                "preset": None, "model": TINY, "tokenizer": {"type": "wordpiece"},
                                "seq_length": 32},
             model, make_vocab(TINY["vocabulary_size"]), labels=["neg", "pos"])
    with pytest.raises(KerasLLMError, match="--classifier-pooling cls"):
        export_checkpoint(tmp_path / "run", tmp_path / "out")
    assert not (tmp_path / "out").exists()
