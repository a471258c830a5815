"""BertForTokenClassification / BertForQuestionAnswering <-> ner / qa runs: parity, round trips."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from hf_checkpoints import random_inputs, save_and_import, torch_outputs  # noqa: E402
from kerasllm.checkpoints import export_checkpoint  # noqa: E402

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
torch.set_num_threads(1)
pytestmark = pytest.mark.slow


def test_token_classification_checkpoint_imports_exports_and_matches(tmp_path):
    hf_model, run = save_and_import(tmp_path, "ner", architecture="BertForTokenClassification",
                                    seed=7, labels=TAGS)
    assert run.config["task"] == "ner" and run.labels == TAGS
    assert type(run.model).__name__ == "BertTokenClassifier"
    inputs = random_inputs(vocab_size=1000, num_segments=3, length=16, seed=5)
    ours = np.asarray(run.model(inputs, training=False))  # (B, T, C)
    theirs = torch_outputs(hf_model, inputs)["logits"]
    real = inputs["padding_mask"].astype(bool)
    delta = float(np.abs(ours - theirs)[real].max())
    print("BertForTokenClassification max |delta| logits:", delta)
    assert delta < 1e-4

    assert export_checkpoint(tmp_path / "ner_run", tmp_path / "out") == "BertForTokenClassification"
    from safetensors.numpy import load_file

    original, exported = (load_file(str(d / "model.safetensors")) for d in
                          (tmp_path / "ner", tmp_path / "out"))
    assert sorted(original) == sorted(exported)  # no pooler: BertForTokenClassification has none
    assert max(np.abs(original[k] - exported[k]).max() for k in original) == 0.0
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["architectures"] == ["BertForTokenClassification"]
    assert config["id2label"] == {str(i): t for i, t in enumerate(TAGS)}
    reloaded, info = transformers.BertForTokenClassification.from_pretrained(
        str(tmp_path / "out"), output_loading_info=True)
    assert not any(info.values()), info


def test_kerasllm_ner_run_exports_what_transformers_computes(tmp_path):
    from hf_checkpoints import make_vocab
    from tiny_runs import BERT, bert_run

    sizes = dict(BERT, vocabulary_size=200)
    run = bert_run(tmp_path / "run", "ner", labels=TAGS, sizes=sizes, vocab=make_vocab(200))
    assert export_checkpoint(tmp_path / "run", tmp_path / "hf") == "BertForTokenClassification"
    hf_model, info = transformers.BertForTokenClassification.from_pretrained(
        str(tmp_path / "hf"), output_loading_info=True)
    assert not any(info.values()), info
    inputs = random_inputs(vocab_size=200, num_segments=2, length=10, seed=3)
    delta = np.abs(np.asarray(run.model(inputs, training=False))
                   - torch_outputs(hf_model.eval(), inputs)["logits"]).max()
    print("export-hf BertForTokenClassification max |delta|:", delta)
    assert delta < 1e-5 and hf_model.config.id2label == dict(enumerate(TAGS))


def test_question_answering_checkpoint_imports_exports_and_matches(tmp_path):
    hf_model, run = save_and_import(tmp_path, "qa", architecture="BertForQuestionAnswering", seed=8)
    assert run.config["task"] == "qa" and type(run.model).__name__ == "BertQuestionAnswering"
    inputs = random_inputs(vocab_size=1000, num_segments=3, length=16, seed=6)
    ours = run.model(inputs, training=False)
    theirs = torch_outputs(hf_model, inputs)
    delta = max(float(np.abs(np.asarray(ours[k]) - theirs[f"{k}_logits"]).max())
                for k in ("start", "end"))
    print("BertForQuestionAnswering max |delta| logits:", delta)
    assert delta < 1e-4
    assert export_checkpoint(tmp_path / "qa_run", tmp_path / "out") == "BertForQuestionAnswering"
    from safetensors.numpy import load_file

    original, exported = (load_file(str(d / "model.safetensors")) for d in
                          (tmp_path / "qa", tmp_path / "out"))
    assert sorted(original) == sorted(exported)
    assert max(np.abs(original[k] - exported[k]).max() for k in original) == 0.0
    _, info = transformers.BertForQuestionAnswering.from_pretrained(
        str(tmp_path / "out"), output_loading_info=True)
    assert not any(info.values()), info
