"""kerasllm embed on the real all-MiniLM-L6-v2 equals sentence-transformers' embedding,
recomputed with transformers: mean over real tokens, L2-normalised, cut at 256 tokens."""
import numpy as np
import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch", reason="HF parity tests need torch: pip install -e .[hf-test]")
transformers = pytest.importorskip(
    "transformers", reason="HF parity tests need transformers: pip install -e .[hf-test]")

from minilm import SIMILAR, UNRELATED  # noqa: E402
from kerasllm.cli.main import cli  # noqa: E402
from kerasllm.inference import embed  # noqa: E402

LONG = "The quick brown fox jumps over the lazy dog near the river bank. " * 40  # > 256 tokens
TEXTS = SIMILAR + [UNRELATED, "Café naïve résumé", LONG]

torch.set_num_threads(1)
pytestmark = pytest.mark.slow  # torch + transformers + TF and a 22M-parameter model: ~15 s


def reference_embeddings(run, texts, pooling="mean"):
    """sentence-transformers' all-MiniLM-L6-v2 recipe, written out with transformers."""
    source = run.config["source"]
    tokenizer = transformers.AutoTokenizer.from_pretrained(source)
    model = transformers.AutoModel.from_pretrained(source).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state.numpy()  # (N, T, H)
    if pooling == "cls":
        vectors = hidden[:, 0]
    else:
        mask = batch["attention_mask"].numpy()[:, :, None]  # (N, T, 1)
        vectors = (hidden * mask).sum(1) / mask.sum(1)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True), batch


def test_run_remembers_the_sentence_transformers_pooling(minilm_run):
    config = minilm_run.config
    assert (config["pooling"], config["normalize"], config["seq_length"]) == ("mean", True, 256)


def test_embed_matches_sentence_transformers_within_1e4(minilm_run):
    ref, batch = reference_embeddings(minilm_run, TEXTS)
    assert batch["input_ids"].shape[1] == 256  # the long text really was cut
    ours = embed(minilm_run, TEXTS, batch_size=2)  # three batches
    assert ours.shape == (len(TEXTS), 384)
    assert np.abs(ours - ref).max() < 1e-4
    np.testing.assert_allclose(np.linalg.norm(ours, axis=-1), 1.0, atol=1e-5)
    sims = ours @ ours.T
    assert sims[0, 1] > 0.6 and sims[0, 2] < 0.2  # similar high, unrelated low


def test_cls_pooling_and_no_normalisation_are_explicit(minilm_run):
    ref, _ = reference_embeddings(minilm_run, TEXTS[:3], pooling="cls")
    ours = embed(minilm_run, TEXTS[:3], pooling="cls")
    assert np.abs(ours - ref).max() < 1e-4
    raw = embed(minilm_run, TEXTS[:3], normalize=False)
    assert not np.allclose(np.linalg.norm(raw, axis=-1), 1.0, atol=1e-3)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=-1, keepdims=True),
                               embed(minilm_run, TEXTS[:3]), atol=1e-6)


def test_embed_cli_options(minilm_run):
    runner = CliRunner()
    args = ["embed", str(minilm_run.path), "--text", SIMILAR[0], "--text", SIMILAR[1]]
    result = runner.invoke(cli, args + ["--pooling", "cls", "--no-normalize"])
    assert result.exit_code == 0, result.output
    first = np.array(result.output.splitlines()[0].split("\t")[1].split(), dtype="float32")
    np.testing.assert_allclose(first, embed(minilm_run, SIMILAR[:1], pooling="cls",
                                            normalize=False)[0], atol=1e-5)
    result = runner.invoke(cli, args + ["--pooling", "max"])
    assert result.exit_code == 2 and "'max' is not one of 'mean', 'cls'" in result.output
