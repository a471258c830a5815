"""kerasllm export of a search index: a versioned SavedModel whose raw-text search(query, top_k)
runs without keras / tf-text / kerasllm and ranks as `kerasllm search` does."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from export_fixtures import blocked_cli_env, run_blocked
from kerasllm.cli.main import cli
from kerasllm.search import SemanticIndex, build_index, search_texts
from tiny_runs import bert_run, sentences

QUERIES = ["the red car ran fast", "Café naïve 😀", ""]

pytestmark = pytest.mark.slow  # traces and saves a SavedModel, then loads it in a subprocess


def _sharpen(model):
    """Large random weights, so different texts get clearly different embeddings."""
    rng = np.random.default_rng(0)
    for w in model.weights:
        if len(w.shape) >= 2 or "bias" in w.path:
            w.assign(rng.normal(0, 0.3 if len(w.shape) >= 2 else 1.0, w.shape).astype("float32"))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("search_export")
    run = bert_run(root / "run", "encoder")
    _sharpen(run.model)
    run.model.save(str(root / "run" / "model.keras"))
    docs = [(f"doc{i}", t) for i, t in enumerate(sentences(12, seed=3))]
    build_index(run, docs, root / "idx", chunk_size=5)
    base = root / "served" / "search"
    runner = CliRunner()
    for _ in range(2):  # versioned like every export: 1, then 2
        result = runner.invoke(cli, ["export", str(root / "idx"), "--output", str(base)])
        assert result.exit_code == 0, result.output
    model_dir = str(base / "2")
    requests = {f"{model_dir}|search": {"query": ["string", QUERIES], "top_k": ["int32", 4]},
                f"{model_dir}|serving_default#big_k": {"query": ["string", QUERIES[:1]],
                                                       "top_k": ["int32", 100]}}
    outputs = run_blocked(root, requests)
    return {"root": root, "base": base, "dir": model_dir, "out": outputs,
            "run": run, "index": SemanticIndex.load(root / "idx")}


def test_savedmodel_search_matches_kerasllm_search(exported):
    out, key = exported["out"], f"{exported['dir']}|search"
    ids, texts, scores = out[f"{key}|ids"], out[f"{key}|texts"], out[f"{key}|scores"]
    assert ids.shape == texts.shape == scores.shape == (3, 4)
    want = search_texts(exported["index"], exported["run"], QUERIES, top_k=4)
    assert [[i.decode() for i in row] for row in ids] == [[h[0] for h in hits] for hits in want]
    assert [[t.decode() for t in row] for row in texts] == [[h[1] for h in hits] for hits in want]
    np.testing.assert_allclose(scores, [[h[2] for h in hits] for hits in want], atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 0) and np.ptp(scores) > 0.05


def test_top_k_is_capped_at_the_document_count(exported):
    out = exported["out"]
    assert out[f"{exported['dir']}|serving_default#big_k|ids"].shape == (1, 12)


def test_versions_and_warmup_like_other_exports(exported):
    base = exported["base"]
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]
    assert (base / "2" / "assets.extra" / "tf_serving_warmup_requests").is_file()
    result = CliRunner().invoke(cli, ["export", str(exported["root"] / "idx"), "--output",
                                      str(base), "--version", "1"])
    assert result.exit_code == 1 and "already exists" in result.output


def test_saved_model_cli_runs_search_the_tf1_way(exported):
    """`saved_model_cli run` restores variables with a session, as TF Serving does; the
    documents are string variables, so this is the check that they restore."""
    cli_path = Path(sys.executable).parent / "saved_model_cli"
    run = subprocess.run([str(cli_path), "run", "--dir", exported["dir"], "--tag_set", "serve",
                          "--signature_def", "search", "--input_exprs",
                          f"query=[{QUERIES[0]!r}];top_k=2"],
                         env=blocked_cli_env(exported["root"]), capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    ids = exported["out"][f"{exported['dir']}|search|ids"][0][:2]
    assert f"Result for output key ids:\n[[b'{ids[0].decode()}' b'{ids[1].decode()}']]" in run.stdout
