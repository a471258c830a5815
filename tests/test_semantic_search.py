"""kerasllm index / search: exact cosine search, resumable indexing, clear errors."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.search import SemanticIndex, build_index, exact_search, search_texts
from tiny_runs import bert_run, sentences

DOCS = ["The striker scored twice as the home side won the cup final.",
        "Shares in the bank fell sharply after it reported a loss.",
        "A new smartphone with a folding screen goes on sale next month.",
        "The prime minister called an early general election.",
        "The film won three awards at the festival."]


def test_exact_search_matches_a_full_sort():
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(50, 8)).astype("float32")
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = docs[[3, 7]] + 0.01
    best, scores = exact_search(docs, queries, top_k=4)
    full = queries @ docs.T
    np.testing.assert_array_equal(best, np.argsort(-full, axis=1)[:, :4])
    np.testing.assert_allclose(scores, np.sort(full, axis=1)[:, ::-1][:, :4], rtol=1e-6)
    assert best[:, 0].tolist() == [3, 7]
    assert exact_search(docs, queries, top_k=500)[0].shape == (2, 50)  # k capped at N


def test_index_resumes_and_adds_only_new_documents(tmp_path):
    run = bert_run(tmp_path / "run", "encoder")
    texts = sentences(7)
    docs = [(f"d{i}", t) for i, t in enumerate(texts)]
    calls = []
    index, added = build_index(run, docs[:5], tmp_path / "idx", chunk_size=2,
                               progress=lambda done, total: calls.append((done, total)))
    assert added == 5 and calls == [(2, 5), (4, 5), (5, 5)]
    index, added = build_index(run, docs, tmp_path / "idx", chunk_size=2)
    assert added == 2 and len(index) == 7
    loaded = SemanticIndex.load(tmp_path / "idx")
    assert loaded.ids == [i for i, _ in docs] and loaded.embeddings.shape == (7, 16)
    np.testing.assert_allclose(np.linalg.norm(loaded.embeddings, axis=1), 1.0, atol=1e-5)
    # Every document finds itself first.
    hits = search_texts(loaded, run, texts, top_k=1)
    assert [h[0][0] for h in hits] == [i for i, _ in docs]
    np.testing.assert_allclose([h[0][2] for h in hits], 1.0, atol=1e-5)


def test_an_index_refuses_a_second_encoder(tmp_path):
    build_index(bert_run(tmp_path / "a", "encoder"), [("x", "the cat")], tmp_path / "idx")
    with pytest.raises(KerasLLMError, match="mixing encoders breaks similarity"):
        build_index(bert_run(tmp_path / "b", "encoder"), [("y", "the dog")], tmp_path / "idx")
    with pytest.raises(KerasLLMError, match=r"not a kerasllm index \(no index.json\)"):
        SemanticIndex.load(tmp_path / "a")


def test_cli_index_and_search_real_encoder(minilm_run, tmp_path):
    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(DOCS[:3]) + "\n\n")
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps({"body": t}) + "\n" for t in DOCS[3:]))
    runner = CliRunner()
    out = str(tmp_path / "idx")
    result = runner.invoke(cli, ["index", str(minilm_run.path), "--corpus", str(corpus),
                                 "--output", out])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 new document(s) (0 already there); 3 in" in result.output
    result = runner.invoke(cli, ["index", str(minilm_run.path), "--corpus", str(corpus),
                                 "--corpus", str(more), "--column", "body", "--output", out])
    assert "Indexed 2 new document(s) (3 already there); 5 in" in result.output
    result = runner.invoke(cli, ["search", out, "who won the football match", "--top-k", "2",
                                 "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["results"]
    assert [h["id"] for h in hits][0] == f"{corpus}:1"
    assert hits[0]["score"] > 0.4 > hits[1]["score"]
    result = runner.invoke(cli, ["search", str(tmp_path), "query"])
    assert result.exit_code == 1 and "not a kerasllm index" in result.output


def test_cli_latin1_warning_and_empty_index_export(tmp_path):
    run = bert_run(tmp_path / "run", "encoder")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 sat on the mat\n\n")
    (tmp_path / "blank.txt").write_text("\n \n")
    runner = CliRunner()
    result = runner.invoke(cli, ["index", str(run.path), "--corpus", str(tmp_path / "latin1.txt"),
                                 "--output", str(tmp_path / "idx")])
    assert result.exit_code == 0 and "replaced by U+FFFD" in result.output
    assert SemanticIndex.load(tmp_path / "idx").texts == ["caf\ufffd sat on the mat"]
    result = runner.invoke(cli, ["index", str(run.path), "--corpus", str(tmp_path / "blank.txt"),
                                 "--output", str(tmp_path / "empty")])
    assert "Indexed 0 new document(s)" in result.output
    result = runner.invoke(cli, ["export", str(tmp_path / "empty"), "--output",
                                 str(tmp_path / "served")])
    assert result.exit_code == 1
    assert "the index holds no documents; add some with `kerasllm index`" in result.output
