"""Classification files -> tf.data batches; one-line errors with file:line."""
import json

import numpy as np
import pytest

from kerasllm.data.classification import (classification_dataset, encode_labels, label_vocabulary,
                                          read_classification_file, write_labels)
from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.errors import DataError

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "film", "very", "plot", ",", "a"]


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer(VOCAB)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_tsv_jsonl_read_the_same(tmp_path):
    csv_file = _write(tmp_path / "a.csv", 'text,label\n"good, very good",pos\nbad film,neg\n')
    tsv_file = _write(tmp_path / "a.tsv", "label\ttext\npos\tgood, very good\nneg\tbad film\n")
    jsonl_file = _write(tmp_path / "a.jsonl", json.dumps({"text": "good, very good", "label": "pos"}) + "\n"
                        + json.dumps({"text": "bad film", "label": "neg"}) + "\n")
    for path in (csv_file, tsv_file, jsonl_file):
        data = read_classification_file(path)
        assert (data.texts, data.labels, data.pairs) == (["good, very good", "bad film"], ["pos", "neg"], None)
    assert read_classification_file(csv_file).lines == [2, 3]
    bom = tmp_path / "excel.csv"
    bom.write_bytes("text,label\nbad film,neg\n".encode("utf-8-sig"))
    assert read_classification_file(str(bom)).texts == ["bad film"]


def test_batches_exact_values_pairs_and_labels(tmp_path, tok):
    path = _write(tmp_path / "p.csv", "sentence,other,y\ngood film,bad plot,1\nbad,very very good film,0\n")
    data = read_classification_file(path, text_column="sentence", pair_column="other", label_column="y")
    names = label_vocabulary(data.labels)
    assert names == ["0", "1"]
    (x, y), = list(classification_dataset(data, tok, names, seq_length=16, batch_size=2))
    assert y.numpy().tolist() == [1, 0]
    assert x["token_ids"].numpy().tolist() == [[2, 5, 7, 3, 6, 9, 3, 0],
                                               [2, 6, 3, 8, 8, 5, 7, 3]]
    assert x["segment_ids"].numpy().tolist()[1] == [0, 0, 0, 1, 1, 1, 1, 1]
    assert x["padding_mask"].numpy().sum(axis=1).tolist() == [7, 8]


def test_dynamic_padding_and_bucketing_keep_every_example(tmp_path, tok):
    rows = ["good"] * 6 + ["very " * 20 + "bad"] * 2
    path = _write(tmp_path / "b.jsonl", "".join(json.dumps({"text": t, "label": "x"}) + "\n" for t in rows))
    data = read_classification_file(path)
    padded = list(classification_dataset(data, tok, ["x"], seq_length=64, batch_size=4, dynamic_padding=False))
    assert [b[0]["token_ids"].shape[1] for b in padded] == [64, 64]
    dynamic = list(classification_dataset(data, tok, ["x"], seq_length=64, batch_size=4))
    assert [b[0]["token_ids"].shape[1] for b in dynamic] == [3, 23]
    buckets = list(classification_dataset(data, tok, ["x"], seq_length=64, batch_size=4, shuffle=True,
                                          bucket_boundaries=[8, 16]))
    widths = sorted(b[0]["token_ids"].shape[1] for b in buckets)
    assert widths == [3, 3, 23] and sum(len(b[1]) for b in buckets) == 8
    assert all(len(b[1]) in (2, 4) for b in buckets)


def test_prediction_without_labels_yields_inputs_only(tmp_path, tok):
    data = read_classification_file(_write(tmp_path / "u.csv", "text\ngood film\n"), require_labels=False)
    assert data.labels is None
    (x,) = list(classification_dataset(data, tok, None, seq_length=8, batch_size=4))
    assert x["token_ids"].numpy().tolist() == [[2, 5, 7, 3]]


def test_ragged_row_missing_column_empty_and_unseen_label_errors(tmp_path):
    ragged = _write(tmp_path / "r.csv", "text,label\ngood,pos\nbad,neg,extra\n")
    with pytest.raises(DataError, match=r"r\.csv:3: row has 3 fields but the header has 2"):
        read_classification_file(ragged)
    missing = _write(tmp_path / "m.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with pytest.raises(DataError, match=r"m\.jsonl:2: key 'label': missing column"):
        read_classification_file(missing)
    with pytest.raises(DataError, match=r"m\.jsonl:1: key 'sentence': missing column"):
        read_classification_file(missing, text_column="sentence")
    empty = _write(tmp_path / "e.csv", "text,label\ngood,\n")
    with pytest.raises(DataError, match=r"e\.csv:2: key 'label': empty label"):
        read_classification_file(empty)
    test = read_classification_file(_write(tmp_path / "t.csv", "text,label\na,pos\nb,maybe\n"))
    with pytest.raises(DataError, match=r"t\.csv:3: label 'maybe' was not in the training labels \(neg, pos\)"):
        encode_labels(test, ["neg", "pos"])
    with pytest.raises(DataError, match="not found"):
        read_classification_file(str(tmp_path / "none.csv"))


def test_multiline_quoted_csv_keeps_line_numbers(tmp_path):
    path = _write(tmp_path / "q.csv", 'text,label\n"line one\nline two",a\nlast,b,c\n')
    with pytest.raises(DataError, match=r"q\.csv:4: row has 3 fields"):
        read_classification_file(path)


def test_labels_file_round_trip(tmp_path):
    names = label_vocabulary(["b", "a", "c", "a"])
    assert names == ["a", "b", "c"] and label_vocabulary(["10", "9", "2"]) == ["2", "9", "10"]
    path = write_labels(names, tmp_path / "labels.txt")
    assert open(path, encoding="utf-8").read().splitlines() == names
    data = read_classification_file(_write(tmp_path / "l.csv", "text,label\nx,c\ny,a\n"))
    assert np.array_equal(encode_labels(data, names), [2, 0])
