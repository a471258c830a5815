"""fill-mask, predict and embed on imported Hugging Face checkpoints agree with transformers."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from hf_checkpoints import save_and_import  # noqa: E402
from kerasllm.cli.main import cli  # noqa: E402
from kerasllm.errors import KerasLLMError  # noqa: E402
from kerasllm.inference import cosine_similarity, embed, fill_mask, predict  # noqa: E402

LABELS = ["world", "sport", "business", "tech"]
TEXTS = ["The cat sat on the mat.", "Paris is the capital of France.",
         "The team won the football match", "Bank shares fell"]

torch.set_num_threads(1)
pytestmark = pytest.mark.slow  # torch + transformers + TF in one process: ~10-30 s per test


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_use")
    return {
        "mlm": save_and_import(root, "mlm", architecture="BertForMaskedLM", seed=21),
        "classifier": save_and_import(root, "clf", architecture="BertForSequenceClassification",
                                      seed=22, labels=LABELS),
    }


def hf_tokenizer(run):
    return transformers.AutoTokenizer.from_pretrained(run.config["source"])


def test_fill_mask_matches_transformers(runs):
    model, run = runs["mlm"]
    text = "paris is the [MASK] of france . the [MASK] sat"
    ours = fill_mask(run, text, top_k=5)
    batch = hf_tokenizer(run)(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits[0]
    positions = (batch["input_ids"][0] == run.tokenizer.mask_id).nonzero().flatten()
    assert len(ours) == len(positions) == 2
    for candidates, position in zip(ours, positions):
        probs = torch.softmax(logits[position], -1).numpy()
        best = np.argsort(-probs)[:5]
        assert [t for t, _ in candidates] == [run.tokenizer.id_to_token(i) for i in best]
        np.testing.assert_allclose([p for _, p in candidates], probs[best], atol=1e-5)


def test_predict_matches_transformers_label(runs):
    model, run = runs["classifier"]
    probs, labels = predict(run, TEXTS)
    batch = hf_tokenizer(run)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = torch.softmax(model(**batch).logits, -1).numpy()
    assert labels == [model.config.id2label[i] for i in ref.argmax(-1)]
    np.testing.assert_allclose(probs, ref, atol=1e-5)


def test_predict_pairs_match_transformers(runs):
    model, run = runs["classifier"]
    probs, _ = predict(run, TEXTS[:2], pairs=TEXTS[2:])
    batch = hf_tokenizer(run)(TEXTS[:2], TEXTS[2:], padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = torch.softmax(model(**batch).logits, -1).numpy()
    np.testing.assert_allclose(probs, ref, atol=1e-5)


def test_embed_is_masked_mean_of_transformers_hidden_states(runs):
    model, run = runs["classifier"]
    ours = embed(run, TEXTS, batch_size=3)  # two batches, padded differently
    batch = hf_tokenizer(run)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model.bert(**batch).last_hidden_state.numpy()  # (N, T, H)
    mask = batch["attention_mask"].numpy()[:, :, None]
    ref = (hidden * mask).sum(1) / mask.sum(1)
    assert ours.shape == (4, 96)
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    sims = cosine_similarity(ours)
    np.testing.assert_allclose(np.diag(sims), 1.0, atol=1e-5)
    np.testing.assert_allclose(sims, sims.T, atol=1e-6)


def test_task_mismatch_is_a_clear_error(runs):
    _, mlm_run = runs["mlm"]
    _, clf_run = runs["classifier"]
    with pytest.raises(KerasLLMError, match="predict needs a classifier run"):
        predict(mlm_run, ["a"])
    with pytest.raises(KerasLLMError, match="fill-mask needs a masked-LM run"):
        fill_mask(clf_run, "the [MASK]")
    with pytest.raises(KerasLLMError, match=r"No \[MASK\]"):
        fill_mask(mlm_run, "no mask here")


def test_cli_commands_on_imported_checkpoints(runs, tmp_path):
    _, mlm_run = runs["mlm"]
    _, clf_run = runs["classifier"]
    runner = CliRunner()
    result = runner.invoke(cli, ["fill-mask", str(mlm_run.path), "the [MASK] sat", "--json"])
    assert result.exit_code == 0, result.output
    (top,) = json.loads(result.output)
    assert top[0]["token"] == fill_mask(mlm_run, "the [MASK] sat")[0][0][0]

    result = runner.invoke(cli, ["predict", str(clf_run.path), "--text", TEXTS[0], "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert row["label"] == predict(clf_run, TEXTS[:1])[1][0]
    assert sorted(row["probabilities"]) == sorted(LABELS)

    result = runner.invoke(cli, ["embed", str(clf_run.path), "--text", TEXTS[0], "--text",
                                 TEXTS[1], "--similarity"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].split()[-1] == "1.0000"

    result = runner.invoke(cli, ["import-hf", str(tmp_path / "nope"), "--output",
                                 str(tmp_path / "run")])
    assert result.exit_code == 1 and "Error:" in result.output and "not found" in result.output
