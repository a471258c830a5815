"""kerasllm runs -> Hugging Face checkpoints that transformers loads and reproduces (1e-5)."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from hf_checkpoints import make_vocab, random_inputs, save_checkpoint, torch_outputs  # noqa: E402
from kerasllm.checkpoints import export_checkpoint, import_checkpoint  # noqa: E402
from kerasllm.errors import KerasLLMError  # noqa: E402
from kerasllm.runs import load_run, save_run  # noqa: E402

ROUND_TRIP = 1e-5
POSITIONS = np.array([[1, 2], [3, 1], [2, 4]], dtype="int32")
TINY = dict(vocabulary_size=200, num_layers=2, num_heads=2, hidden_dim=32, intermediate_dim=48,
            max_sequence_length=32, num_segments=2, dropout=0.1, activation="gelu",
            layer_norm_epsilon=1e-12)

torch.set_num_threads(1)


def kerasllm_run(run_dir, task, labels=None):
    """A run as training leaves it: a freshly initialised kerasllm model + vocab."""
    from kerasllm import models

    encoder = models.BertEncoder(**TINY)
    model = {"mlm+nsp": lambda: models.BertPretrainer(encoder),
             "classify": lambda: models.BertClassifier(encoder, num_classes=len(labels))}[task]()
    config = {"job": "finetune" if labels else "pretrain", "task": task, "family": "bert",
              "preset": None, "model": TINY, "seq_length": 32, "text_pair": False,
              "tokenizer": {"type": "wordpiece", "lowercase": True, "strip_accents": True}}
    save_run(run_dir, config, model, make_vocab(TINY["vocabulary_size"]), labels=labels)
    return load_run(run_dir)


@pytest.mark.parametrize("task", ["mlm+nsp", "classify"])
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
    ref = torch_outputs(hf_model.eval(), inputs)
    if task == "classify":
        assert hf_model.config.id2label == dict(enumerate(labels))
        delta = np.abs(np.asarray(run.model(inputs)) - ref["logits"]).max()
    else:
        ours = run.model({**inputs, "mask_positions": POSITIONS})
        mlm_ref = np.take_along_axis(ref["prediction_logits"], POSITIONS[:, :, None], axis=1)
        delta = max(np.abs(np.asarray(ours["mlm"]) - mlm_ref).max(),
                    np.abs(np.asarray(ours["nsp"]) - ref["seq_relationship_logits"]).max())
    print(f"export-hf {architecture} round trip max |delta|: {delta:.3g}")
    assert delta <= ROUND_TRIP


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
