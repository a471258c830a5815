"""Extractive question answering end to end: SQuAD data, windows, decoding, metrics, CLI."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.answering import decode_answers
from kerasllm.cli.main import cli
from kerasllm.data.qa_windows import encode_qa
from kerasllm.data.squad import QAExample, read_squad_file
from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.errors import DataError
from kerasllm.qa_metrics import f1, normalize_answer, squad_scores
from qa_fixtures import squad, train_answerer, write_squad
from tiny_runs import BERT_VOCAB


def test_squad_reader_and_its_errors(tmp_path):
    examples = read_squad_file(write_squad(tmp_path / "a.json", 5, impossible=0.5))
    assert len(examples) == 5 and any(e.impossible for e in examples)
    for e in examples:
        for text, start in e.answers:
            assert e.context[start:start + len(text)] == text
    bad = squad(2)
    bad["data"][0]["paragraphs"][1]["qas"][0]["answers"][0]["text"] = "Atlantis"
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"b.json: data\[0\].paragraphs\[1\].qas\[0\].answers\[0\]: "
                                        r"answer 'Atlantis' is not at answer_start"):
        read_squad_file(tmp_path / "b.json")
    del bad["data"][0]["paragraphs"][1]["qas"][0]["answers"]
    (tmp_path / "c.json").write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"qas\[0\]: no answers; give 'answers' or set"):
        read_squad_file(tmp_path / "c.json")


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(BERT_VOCAB + ["where", "does", "live", "lives", "in", "?"]) + "\n")
    return WordPieceTokenizer(str(path))


def test_long_context_gives_overlapping_windows_with_the_answer_where_it_fits(tokenizer):
    context = " ".join(["the cat sat on the mat ."] * 6) + " the dog lives in the house ."
    start = context.index("house")
    example = QAExample("1", "where does the dog live ?", context, [("house", start)])
    w = encode_qa(tokenizer, [example], seq_length=24, doc_stride=8, max_query_length=6)
    # question: 6 pieces, so 15 context pieces a window; 49 pieces -> starts 0, 8, ..., 40
    assert len(w) == 6 and (w.x["segment_ids"][:, :8] == 0).all()
    vocab = BERT_VOCAB + ["where", "does", "live", "lives", "in", "?"]
    for r in range(len(w)):
        if w.start[r]:
            assert vocab[w.x["token_ids"][r, w.start[r]]] == "house" and w.end[r] == w.start[r]
            a, b = w.words[0][w.word[r, w.start[r]]]
            assert context[a:b] == "house"
    assert w.start.tolist() == [0, 0, 0, 0, 0, 8 + 47 - 40]  # piece 47: only the last window


def test_decoding_picks_the_best_valid_span_over_windows():
    context = "Bob plays chess. Alice lives in San Diego."
    words = [(0, 3), (4, 9), (10, 15), (15, 16), (17, 22), (23, 28), (29, 31), (32, 35), (36, 41),
             (41, 42)]

    class W:
        example = np.array([0, 0])
        word = np.array([[-1, 0, 1, 2, 3, 4, -1], [-1, 5, 6, 7, 8, 9, -1]])
    W.words = [words]
    start = np.full((2, 7), -5.0)
    end = np.full((2, 7), -5.0)
    start[1, 3], end[1, 4] = 4.0, 4.0    # "San Diego": words 7-8 in window 1
    end[1, 2] = 9.0                       # an end before the start: not a valid span
    start[:, 0], end[:, 0] = 3.0, 3.0     # the null answer ([CLS], [CLS]) scores 6 < 8
    best = decode_answers(W, start, end, [context], n_best=5, max_answer_length=5)[0]
    assert (best["answer"], best["start"], best["end"]) == ("San Diego", 32, 41)
    assert 0 < best["score"] <= 1
    assert decode_answers(W, start, end, [context], max_answer_length=1)[0]["answer"] != "San Diego"
    start[:, 0] = 6.0  # null 9 > 8 in every window: a v2.0 run answers nothing
    assert decode_answers(W, start, end, [context], null_threshold=0.0)[0]["answer"] == ""


def test_squad_metrics_by_hand():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert f1("the big red car", "red car") == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    scores = squad_scores(["Paris", "in Rome", ""], [["paris", "Paris, France"], ["Rome"], []])
    # EM: 1, 0, 1 (empty = unanswerable); F1: 1, 2*0.5*1/1.5, 1
    assert scores["exact_match"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1) / 3)


@pytest.fixture(scope="module")
def qa_run(tmp_path_factory):
    return train_answerer(tmp_path_factory.mktemp("qa"))


def test_finetune_qa_learns_and_evaluate_prints_squad_scores(qa_run):
    import yaml

    config = yaml.safe_load((qa_run / "run" / "config.yaml").read_text())
    assert (config["task"], config["doc_stride"], config["squad_v2"]) == ("qa", 128, False)
    assert config["max_query_length"] == 16 and "tag_column" not in config
    history = [json.loads(x) for x in (qa_run / "run" / "history.jsonl").read_text().splitlines()]
    assert history[-1]["loss"] < history[0]["loss"] / 2
    result = CliRunner().invoke(cli, ["evaluate", str(qa_run / "run"), "--data",
                                      str(qa_run / "dev.json")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((qa_run / "run" / "eval_metrics.json").read_text())
    print("QA fixture:", metrics)
    assert metrics["exact_match"] > 60 and metrics["questions"] == 30


def test_answer_prints_the_span_and_its_offsets(qa_run):
    context = "Bob plays chess. Alice lives in San Diego."
    result = CliRunner().invoke(cli, ["answer", str(qa_run / "run"), "--json", "--question",
                                      "Where does alice live?", "--context", context],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert context[out["start"]:out["end"]] == out["answer"] and 0 < out["score"] <= 1
    result = CliRunner().invoke(cli, ["answer", str(qa_run / "run"), "--question", "Where?"])
    assert result.exit_code != 0 and "0 contexts" in result.output
