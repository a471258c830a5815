"""Hugging Face BERT checkpoints -> kerasllm runs: numerical parity with transformers.

Random transformers models with non-default sizes (3 layers, hidden 96, 6 heads,
intermediate 200, vocab 1000, type vocab 3) are saved with ``save_pretrained``,
imported with ``import_checkpoint`` and loaded back from the RUN_DIR; every
output must match transformers' to 1e-4 (float32) on padded random inputs.
"""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from hf_checkpoints import random_inputs, save_and_import, torch_outputs  # noqa: E402
from kerasllm.checkpoints import import_checkpoint  # noqa: E402
from kerasllm.errors import DataError  # noqa: E402
from kerasllm.runs import load_run  # noqa: E402

TOLERANCE = 1e-4
LABELS = ["business", "sport", "tech"]
POSITIONS = np.array([[1, 4, 9], [2, 3, 7], [1, 2, 3]], dtype="int32")  # all on real tokens

torch.set_num_threads(1)
pytestmark = pytest.mark.slow  # torch + transformers + TF in one process: ~10-30 s per test


def max_delta(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype="float64") - np.asarray(b, dtype="float64"))))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """name -> (torch model, loaded Run) for the three checkpoint kinds."""
    root = tmp_path_factory.mktemp("hf")
    kinds = {
        "pretraining": dict(architecture="BertForPreTraining", seed=1),
        # tanh GELU and a non-default epsilon must come through from config.json
        "masked_lm": dict(architecture="BertForMaskedLM", seed=2, hidden_act="gelu_new",
                          layer_norm_eps=1e-7),
        "classifier": dict(architecture="BertForSequenceClassification", seed=3, labels=LABELS),
    }
    return {name: save_and_import(root, name, **options) for name, options in kinds.items()}


def encoder_outputs(run, inputs):
    encoder = getattr(run.model, "encoder", run.model)
    return {k: np.asarray(v) for k, v in encoder(inputs, training=False).items()}


def test_pretraining_checkpoint_matches_transformers(imported):
    model, run = imported["pretraining"]
    assert run.config["task"] == "mlm+nsp" and run.config["model"]["num_segments"] == 3
    inputs = random_inputs()
    ref = torch_outputs(model, inputs)
    with torch.no_grad():
        pooled_ref = model.bert(input_ids=torch.tensor(inputs["token_ids"]).long(),
                                token_type_ids=torch.tensor(inputs["segment_ids"]).long(),
                                attention_mask=torch.tensor(inputs["padding_mask"]).long()
                                ).pooler_output.numpy()
    ours = encoder_outputs(run, inputs)
    heads = run.model({**inputs, "mask_positions": POSITIONS}, training=False)
    mlm_ref = np.take_along_axis(ref["prediction_logits"], POSITIONS[:, :, None], axis=1)
    deltas = {
        "sequence_output": max_delta(ours["sequence_output"], ref["sequence_output"]),
        "pooled_output": max_delta(ours["pooled_output"], pooled_ref),
        "mlm_logits": max_delta(heads["mlm"], mlm_ref),
        "nsp_logits": max_delta(heads["nsp"], ref["seq_relationship_logits"]),
    }
    print("BertForPreTraining max |delta|:", deltas)
    assert max(deltas.values()) <= TOLERANCE, deltas
    assert np.asarray(heads["mlm"]).shape == (3, 3, 1000)


def test_masked_lm_checkpoint_matches_transformers(imported):
    model, run = imported["masked_lm"]
    assert run.config["task"] == "mlm"
    assert run.config["model"]["activation"] == "gelu_approximate"
    assert run.config["model"]["layer_norm_epsilon"] == pytest.approx(1e-7)
    assert run.config["hf_pooler"] is False  # BertForMaskedLM stores no pooler
    inputs = random_inputs(seed=5)
    ref = torch_outputs(model, inputs)
    logits = run.model({**inputs, "mask_positions": POSITIONS}, training=False)
    deltas = {
        "sequence_output": max_delta(encoder_outputs(run, inputs)["sequence_output"],
                                     ref["sequence_output"]),
        "mlm_logits": max_delta(logits, np.take_along_axis(ref["logits"], POSITIONS[:, :, None],
                                                           axis=1)),
    }
    print("BertForMaskedLM max |delta|:", deltas)
    assert max(deltas.values()) <= TOLERANCE, deltas


def test_classifier_checkpoint_matches_transformers(imported):
    model, run = imported["classifier"]
    assert run.config["task"] == "classify"
    assert run.labels == LABELS  # from id2label
    inputs = random_inputs(seed=7)
    ref = torch_outputs(model, inputs)
    delta = max_delta(run.model(inputs, training=False), ref["logits"])
    print("BertForSequenceClassification max |delta| logits:", delta)
    assert delta <= TOLERANCE


def test_imported_tokenizer_gives_transformers_ids(imported, tmp_path):
    _, run = imported["classifier"]
    hf_tok = transformers.AutoTokenizer.from_pretrained(run.config["source"])
    texts = ["The cat sat on the mat.", "Paris is the capital of France!", "Zebra qux, London"]
    for text in texts:
        ours = np.asarray(run.tokenizer.tokenize(text)).tolist()
        assert ours == hf_tok(text, add_special_tokens=False)["input_ids"], text


def _rewrite(src, dst, rename=lambda k: k, transform=lambda k, v: v, extra=None):
    """Copy checkpoint ``src`` to ``dst`` with renamed / changed tensors."""
    import shutil

    from safetensors.numpy import load_file, save_file

    shutil.copytree(src, dst)
    tensors = load_file(str(src / "model.safetensors"))
    tensors = {rename(k): transform(k, v) for k, v in tensors.items()}
    tensors.update(extra or {})
    save_file(tensors, str(dst / "model.safetensors"))
    return tensors


def test_legacy_names_import_identically(imported, tmp_path):
    """No ``bert.`` prefix, TF-era gamma/beta and an explicit tied decoder matrix."""
    model, run = imported["pretraining"]
    src = tmp_path / "src"
    model.save_pretrained(str(src))
    (src / "vocab.txt").write_text((run.path / "vocab.txt").read_text())

    def legacy(name):
        name = name.removeprefix("bert.")
        return name.replace("LayerNorm.weight", "LayerNorm.gamma").replace(
            "LayerNorm.bias", "LayerNorm.beta")

    tensors = _rewrite(src, tmp_path / "legacy", rename=legacy)
    tensors_decoder = {"cls.predictions.decoder.weight":
                       tensors["embeddings.word_embeddings.weight"]}
    _rewrite(tmp_path / "legacy", tmp_path / "legacy2", extra=tensors_decoder)
    import_checkpoint(tmp_path / "legacy2", tmp_path / "run")
    legacy_run = load_run(tmp_path / "run")
    inputs = {**random_inputs(seed=9), "mask_positions": POSITIONS}
    a, b = run.model(inputs), legacy_run.model(inputs)
    assert max_delta(a["mlm"], b["mlm"]) == 0.0 and max_delta(a["nsp"], b["nsp"]) == 0.0


def test_pytorch_bin_checkpoint_imports(imported, tmp_path):
    model, run = imported["classifier"]
    src = tmp_path / "bin"
    src.mkdir()
    torch.save(model.state_dict(), src / "pytorch_model.bin")
    for name in ("config.json", "vocab.txt"):
        (src / name).write_text((run.path / name).read_text() if name == "vocab.txt" else
                                json.dumps(model.config.to_dict()))
    import_checkpoint(src, tmp_path / "run")
    inputs = random_inputs(seed=11)
    delta = max_delta(load_run(tmp_path / "run").model(inputs), run.model(inputs))
    assert delta == 0.0


def test_pytorch_bin_without_torch_is_one_line_error(imported, tmp_path, monkeypatch):
    model, run = imported["classifier"]
    src = tmp_path / "bin"
    src.mkdir()
    torch.save(model.state_dict(), src / "pytorch_model.bin")
    (src / "config.json").write_text(json.dumps(model.config.to_dict()))
    (src / "vocab.txt").write_text((run.path / "vocab.txt").read_text())
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(DataError, match="torch is not installed") as err:
        import_checkpoint(src, tmp_path / "run")
    assert "\n" not in str(err.value)


def test_corrupted_checkpoint_lists_every_problem(imported, tmp_path):
    model, run = imported["pretraining"]
    src = tmp_path / "src"
    model.save_pretrained(str(src))
    (src / "vocab.txt").write_text((run.path / "vocab.txt").read_text())
    dropped = "bert.encoder.layer.1.attention.self.key.bias"
    bad_shape = "bert.encoder.layer.2.intermediate.dense.weight"
    _rewrite(src, tmp_path / "bad",
             rename=lambda k: "bert.encoder.layer.1.attention.self.key.bias_typo"
             if k == dropped else k,
             transform=lambda k, v: v[:100] if k == bad_shape else v,
             extra={"cls.extra_head.weight": np.zeros((2, 2), "float32")})
    with pytest.raises(DataError) as err:
        import_checkpoint(tmp_path / "bad", tmp_path / "run")
    message = str(err.value)
    assert "4 problem(s)" in message and "\n" not in message
    assert "missing encoder.layer.1.attention.self.key.bias" in message
    assert "encoder.layer.2.intermediate.dense.weight has shape (100, 96), expected (200, 96)" \
        in message
    assert "unexpected cls.extra_head.weight" in message
    assert "unexpected encoder.layer.1.attention.self.key.bias_typo" in message
    assert not (tmp_path / "run").exists()  # nothing written on failure


def test_sharded_safetensors_import_identically(imported, tmp_path):
    """``model.safetensors.index.json`` + shards, as save_pretrained writes for big models."""
    import shutil

    from safetensors.numpy import load_file, save_file

    model, run = imported["classifier"]
    src = tmp_path / "sharded"
    model.save_pretrained(str(src))
    (src / "vocab.txt").write_text((run.path / "vocab.txt").read_text())
    tensors = load_file(str(src / "model.safetensors"))
    (src / "model.safetensors").unlink()
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[::2],
              "model-00002-of-00002.safetensors": names[1::2]}
    for shard, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, str(src / shard))
    index = {"weight_map": {k: shard for shard, keys in shards.items() for k in keys}}
    (src / "model.safetensors.index.json").write_text(json.dumps(index))
    import_checkpoint(src, tmp_path / "run")
    inputs = random_inputs(seed=13)
    assert max_delta(load_run(tmp_path / "run").model(inputs), run.model(inputs)) == 0.0
    shutil.rmtree(src)


def test_existing_output_is_not_overwritten_without_flag(imported, tmp_path):
    _, run = imported["classifier"]
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty; pass --overwrite"):
        import_checkpoint(run.config["source"], out)
    with pytest.raises(DataError, match="not a kerasllm run"):
        import_checkpoint(run.config["source"], out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    config = import_checkpoint(run.config["source"], run.path, overwrite=True)  # a run: replaced
    assert config["task"] == "classify" and (run.path / "model.keras").is_file()


def test_bfloat16_checkpoint_imports_as_float32(imported, tmp_path):
    """numpy has no bfloat16: such files are widened exactly to float32."""
    model, run = imported["classifier"]
    src = tmp_path / "bf16"
    import copy

    copy.deepcopy(model).to(torch.bfloat16).save_pretrained(str(src))  # fixture stays float32
    (src / "vocab.txt").write_text((run.path / "vocab.txt").read_text())
    import_checkpoint(src, tmp_path / "run")
    bf16_run = load_run(tmp_path / "run")
    word = bf16_run.model.encoder.embeddings.token_embedding.embeddings
    expected = model.bert.embeddings.word_embeddings.weight.detach().bfloat16().float().numpy()
    np.testing.assert_array_equal(np.asarray(word), expected)
