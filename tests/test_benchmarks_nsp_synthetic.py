"""The synthetic NSP check (issue 23, item 1): disjoint topic vocabularies, and a tiny run scored
at every kept checkpoint on held-out documents."""
import os
import random
import sys

import pytest

from training_helpers import write_data

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import nsp_synthetic  # noqa: E402


def test_topic_vocabularies_are_disjoint_and_documents_use_one_each(tmp_path):
    vocabularies = nsp_synthetic.topic_vocabularies(4, 10, random.Random(0))
    assert [len(v) for v in vocabularies] == [10] * 4
    assert len(set().union(*map(set, vocabularies))) == 40
    path = nsp_synthetic.write_corpus(tmp_path / "c.txt", vocabularies, 8, random.Random(1))
    documents = open(path, encoding="utf-8").read().strip().split("\n\n")
    assert len(documents) == 8
    for i, doc in enumerate(documents):
        assert set(doc.replace("\n", " ").split()) - {"."} <= set(vocabularies[i % 4])


def test_every_word_is_one_token_of_the_written_vocabulary(tmp_path):
    from kerasllm.data.tokenizer import WordPieceTokenizer

    vocabularies = nsp_synthetic.topic_vocabularies(4, 10, random.Random(0))
    path = nsp_synthetic.write_corpus(tmp_path / "c.txt", vocabularies, 8, random.Random(1))
    tokenizer = WordPieceTokenizer(str(nsp_synthetic.write_word_vocabulary(tmp_path / "v.txt",
                                                                           vocabularies)))
    vocab = tokenizer.vocabulary
    for word in set(open(path, encoding="utf-8").read().split()):
        ids = [int(i) for i in tokenizer.tokenize(word).numpy()]
        assert [vocab[i] for i in ids] == [word]  # one whole token, never [UNK] or a piece


@pytest.mark.slow
def test_tiny_run_scores_every_kept_checkpoint(tmp_path):
    data = write_data(tmp_path)
    result = nsp_synthetic.main([
        "--preset", str(data / "bert.yaml"), "--topics", "3", "--words", "8", "--train-docs", "12",
        "--heldout-docs", "6", "--steps", "4", "--every", "2", "--seq-length", "32",
        "--batch-size", "4", "--warmup-steps", "1", "--work", str(tmp_path / "work"),
        "--results", str(tmp_path / "results")])
    assert [c["step"] for c in result["curve"]] == [2, 4]
    assert all(0.0 <= c["nsp_accuracy"] <= 1.0 and c["examples"] > 0 for c in result["curve"])
    assert result["chance_ceiling"] == pytest.approx(1 - 0.5 / 3, abs=1e-3)
    assert (tmp_path / "results" / "nsp_synthetic_bert.json").is_file()
