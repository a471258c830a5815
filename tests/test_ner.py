"""Token classification (NER) end to end: data, windows, model, fine-tune, evaluate, predict."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.data.tag_windows import encode_windows, word_predictions
from kerasllm.data.tagging import read_tagging_file, tag_vocabulary
from kerasllm.errors import DataError
from kerasllm.models import BertEncoder, BertTokenClassifier
from kerasllm.data.word_offsets import split_words
from ner_fixtures import sentences, train_tagger, write_jsonl
from tiny_runs import BERT, BERT_VOCAB


def test_conll_reader_skips_docstart_and_reads_the_tag_column(tmp_path):
    path = tmp_path / "a.conll"
    path.write_text("-DOCSTART- -X- O O\n\nJohn NNP B-NP B-PER\nlives VBZ B-VP O\n \t \n"
                    "Paris NNP B-NP S-LOC\n\n\n", encoding="utf-8")
    data = read_tagging_file(path)
    assert data.words == [["John", "lives"], ["Paris"]] and data.lines == [3, 6]
    assert data.tags == [["B-PER", "O"], ["S-LOC"]]
    assert read_tagging_file(path, tag_column=2).tags == [["B-NP", "B-VP"], ["B-NP"]]
    assert tag_vocabulary(data) == ["O", "B-PER", "S-LOC"]


@pytest.mark.parametrize("text, message", [
    ("John B-PER\nlives\n", r"a.conll:2: 'lives' has no tag"),
    ("John PER\n", r"a.conll:1: tag 'PER' is not O or B-/I-/E-/S-TYPE"),
])
def test_bad_conll_lines_name_file_and_line(tmp_path, text, message):
    (tmp_path / "a.conll").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_tagging_file(tmp_path / "a.conll")


def test_jsonl_reader_and_its_errors(tmp_path):
    rows = sentences(3)
    data = read_tagging_file(write_jsonl(tmp_path / "a.jsonl", rows))
    assert data.words[1] == [w for w, _ in rows[1]] and data.tags[2] == [t for _, t in rows[2]]
    (tmp_path / "b.jsonl").write_text('{"tokens": ["a", "b"], "tags": ["O"]}\n')
    with pytest.raises(DataError, match=r"b.jsonl:1: 2 tokens but 1 tags"):
        read_tagging_file(tmp_path / "b.jsonl")


class _Tokenizer:
    """Splits a word into 1-3 'pieces' by its length: enough to test the packing."""
    cls_id, sep_id, pad_id = 2, 3, 0

    def tokenize(self, words):
        return tf.ragged.constant([[10 + i for i in range(min(3, max(1, len(w) // 3)))]
                                   if w != "\u200b" else [] for w in words], dtype=tf.int32)


def test_windows_label_first_pieces_and_split_long_sentences_between_words():
    words = ["abcdefghi", "ab", "abcdef", "\u200b", "abc", "ab"]  # pieces: 3, 1, 2, 0, 1, 1
    tags = [[1, 0, 2, 0, 1, 0]]
    w = encode_windows(_Tokenizer(), [words], seq_length=6, tag_ids=tags)  # 4 pieces a window
    assert w.sentence.tolist() == [0, 0]
    # every word with pieces is weighted exactly once, on its first piece
    assert w.weights.sum() == 5 and w.word[w.word >= 0].tolist() == [0, 1, 2, 4, 5]
    assert w.x["token_ids"][0].tolist() == [2, 10, 11, 12, 10, 3]        # words 0-1
    assert w.x["token_ids"][1].tolist() == [2, 10, 11, 10, 10, 3]        # words 2-5
    assert w.tag_ids[w.weights > 0].tolist() == [1, 0, 2, 1, 0]
    probabilities = np.eye(3)[w.tag_ids]  # (N, T, 3): the "model" predicts the gold tags
    assert [t for t, _ in word_predictions(w, probabilities, [6])[0]] == [1, 0, 2, 0, 1, 0]


def test_a_word_across_a_window_end_keeps_its_first_pieces_there():
    words = ["abcdefghi", "abcdefghi", "ab"]  # pieces 3, 3, 1; 4 pieces a window
    w = encode_windows(_Tokenizer(), [words], seq_length=6, tag_ids=[[1, 2, 0]])
    assert w.x["token_ids"].tolist() == [[2, 10, 11, 12, 10, 3], [2, 10, 3, 0, 0, 0]]
    assert w.word[w.word >= 0].tolist() == [0, 1, 2] and w.tag_ids[w.weights > 0].tolist() == [1, 2, 0]


def test_split_words_gives_bert_words_with_offsets():
    text = "Dr. Müller\tflew to São Paulo, 東京!"
    words = split_words(text)
    assert [w for w, _, _ in words] == ["Dr", ".", "Müller", "flew", "to", "São", "Paulo", ",",
                                        "東", "京", "!"]
    assert all(text[s:e] == w for w, s, e in words)


def test_token_classifier_shapes_fit_and_round_trip(tmp_path):
    model = BertTokenClassifier(BertEncoder(**BERT), num_classes=5)
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(5, len(BERT_VOCAB), (8, 10)).astype("int32"),
         "segment_ids": np.zeros((8, 10), "int32"), "padding_mask": np.ones((8, 10), "int32")}
    y = rng.integers(0, 5, (8, 10)).astype("int32")
    weights = (rng.random((8, 10)) > 0.3).astype("float32")
    assert model(x).shape == (8, 10, 5)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    losses = model.fit(x, y, sample_weight=weights, batch_size=4, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))
    assert loaded.get_config()["num_classes"] == 5


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory):
    return train_tagger(tmp_path_factory.mktemp("ner"))


def test_finetune_ner_writes_a_resumable_run(ner_run):
    import yaml

    run_dir = ner_run / "run"
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert (config["job"], config["task"]) == ("finetune", "ner")
    assert "text_column" not in config and config.get("tag_column") is None
    assert (run_dir / "labels.txt").read_text().split() == ["O", "B-LOC", "B-PER", "I-LOC", "I-PER"]
    assert any((run_dir / "checkpoints").iterdir()) and any((run_dir / "logs").iterdir())
    history = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    assert history[-1]["val_loss"] < history[0]["val_loss"]


def test_evaluate_ner_prints_entity_scores(ner_run):
    result = CliRunner().invoke(cli, ["evaluate", str(ner_run / "run"), "--data",
                                      str(ner_run / "eval.conll")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((ner_run / "run" / "eval_metrics.json").read_text())
    print("NER fixture:", {k: metrics[k] for k in ("precision", "recall", "f1", "token_accuracy")})
    gold = sum(t.startswith("B-") for t in (ner_run / "eval.conll").read_text().split())
    assert metrics["f1"] > 0.8 and metrics["entities"] == gold and "f1: " in result.output
    assert {"f1_PER", "f1_LOC", "token_accuracy"} <= set(metrics)


def test_predict_prints_entities_with_offsets(ner_run):
    text = "the met alice in today saw new york ."
    result = CliRunner().invoke(cli, ["predict", str(ner_run / "run"), "--json", "--text", text,
                                      "--text", ""], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first, empty = (json.loads(line) for line in result.output.strip().splitlines())
    assert empty == {"text": "", "entities": []}
    for entity in first["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"] and 0 < entity["score"] <= 1
    assert {(e["type"], e["text"]) for e in first["entities"]} >= {("LOC", "new york")}
    plain = CliRunner().invoke(cli, ["predict", str(ner_run / "run"), "--text", text])
    assert "LOC" in plain.output and "new york" in plain.output


def test_finetune_ner_and_qa_start_from_an_init_run(tmp_path):
    """--init RUN_DIR (here an encoder run, as import-hf writes one) gives its encoder and
    vocabulary to the tagger and to the question answerer."""
    from kerasllm.runs import load_run
    from qa_fixtures import write_squad
    from tiny_runs import bert_run

    init = bert_run(tmp_path / "init", "encoder")
    write_jsonl(tmp_path / "train.jsonl", sentences(16))
    write_squad(tmp_path / "train.json", 16)
    common = ["--init", str(tmp_path / "init"), "--seq-length", "32", "--batch-size", "4",
              "--steps", "3"]
    for task, train in (("ner", "train.jsonl"), ("qa", "train.json")):
        result = CliRunner().invoke(cli, ["finetune", "--task", task, "--train", str(tmp_path / train),
                                          "--output", str(tmp_path / task), *common],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output[-2000:]
        run = load_run(tmp_path / task)
        assert run.config["task"] == task and run.config["preset"] is None
        assert (tmp_path / task / "vocab.txt").read_text() == (tmp_path / "init" / "vocab.txt").read_text()
        assert run.model.encoder.num_layers == init.model.num_layers
    again = CliRunner().invoke(cli, ["finetune", "--task", "qa", "--train", str(tmp_path / "train.json"),
                                     "--output", str(tmp_path / "qa"), *common])
    assert again.exit_code == 0 and "resumed from step 3" in again.output  # RUN_DIR checkpoints


def test_task_models_from_presets():
    from kerasllm.models import BertQuestionAnswering

    model = BertTokenClassifier.from_preset("bert_tiny", num_classes=9, vocabulary_size=100)
    x = {"token_ids": np.ones((1, 5), "int32"), "segment_ids": np.zeros((1, 5), "int32"),
         "padding_mask": np.ones((1, 5), "int32")}
    assert model(x).shape == (1, 5, 9)
    out = BertQuestionAnswering.from_preset("bert_tiny", vocabulary_size=100)(x)
    assert out["start"].shape == out["end"].shape == (1, 5)
