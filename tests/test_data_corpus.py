"""Corpus reading: BERT layout, gzip, JSONL, and one-line errors / counted warnings naming file:line."""
import gzip
import json

import pytest

from kerasllm.data.corpus import CorpusStats, expand_patterns, read_documents, write_bert_corpus
from kerasllm.errors import DataError


def _write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def test_bert_layout_documents_lines_and_sources(tmp_path):
    f = _write(tmp_path / "a.txt", "First sentence.\nSecond one.\n\n\nDoc two.\n  \nDoc three, line 1.\nline 2\n")
    stats = CorpusStats()
    docs = read_documents(str(f), stats)
    assert [d.lines for d in docs] == [["First sentence.", "Second one."], ["Doc two."],
                                       ["Doc three, line 1.", "line 2"]]
    assert [d.line for d in docs] == [1, 5, 7]
    assert all(d.source == str(f) for d in docs)
    assert (stats.files, stats.documents, stats.lines, stats.warnings()) == (1, 3, 5, [])


def test_jsonl_and_gzip_round_trip(tmp_path):
    with gzip.open(tmp_path / "b.txt.gz", "wt", encoding="utf-8") as f:
        f.write("Zipped line.\n\nSecond zipped doc.\n")
    _write(tmp_path / "c.jsonl", json.dumps({"text": "Line one.\nLine two.", "id": 3}) + "\n\n"
           + json.dumps({"text": "Solo."}) + "\n")
    docs = read_documents([str(tmp_path / "*.gz"), str(tmp_path / "c.jsonl")])
    assert [d.lines for d in docs] == [["Zipped line."], ["Second zipped doc."], ["Line one.", "Line two."], ["Solo."]]
    assert [d.line for d in docs[2:]] == [1, 3]
    assert [d.lines for d in read_documents(str(tmp_path))] == [d.lines for d in docs]  # a directory


def test_byte_order_mark_is_ignored(tmp_path):
    j = _write(tmp_path / "bom.jsonl", "\ufeff" + json.dumps({"text": "Hi."}) + "\n")
    t = _write(tmp_path / "bom.txt", "\ufeffHi.\n")
    assert [d.lines for d in read_documents([str(j), str(t)])] == [["Hi."], ["Hi."]]


def test_custom_text_field_and_missing_field_error(tmp_path):
    f = _write(tmp_path / "d.jsonl", json.dumps({"body": "Custom field."}) + "\n" + json.dumps({"x": 1}) + "\n")
    with pytest.raises(DataError, match=r"d\.jsonl:2: missing field 'body'"):
        read_documents(str(f), text_field="body")
    with pytest.raises(DataError, match=r"d\.jsonl:1: missing field 'text'"):
        read_documents(str(f))


def test_bad_json_and_non_string_text_name_file_and_line(tmp_path):
    f = _write(tmp_path / "e.jsonl", '{"text": "ok"}\n{"text": oops}\n')
    with pytest.raises(DataError, match=r"e\.jsonl:2: not valid JSON"):
        read_documents(str(f))
    g = _write(tmp_path / "g.jsonl", '{"text": ["a"]}\n')
    with pytest.raises(DataError, match=r"g\.jsonl:1: field 'text' is list"):
        read_documents(str(g))


def test_invalid_utf8_is_replaced_and_counted_with_first_location(tmp_path):
    f = _write(tmp_path / "bad.txt", b"good line\ncost \xa315m\n\nalso \xff bad\n")
    stats = CorpusStats()
    docs = read_documents(str(f), stats)
    assert docs[0].lines == ["good line", "cost \ufffd15m"]
    assert stats.invalid_utf8.count == 2
    assert stats.warnings() == [f"2 lines with invalid UTF-8 replaced by U+FFFD (first: {f}:2)"]


def test_empty_files_and_empty_documents_are_counted_not_silent(tmp_path):
    empty = _write(tmp_path / "empty.txt", "")
    blank = _write(tmp_path / "blank.txt", "\n  \n\n")
    j = _write(tmp_path / "j.jsonl", '{"text": "   "}\n{"text": "real"}\n')
    stats = CorpusStats()
    docs = read_documents([str(empty), str(blank), str(j)], stats)
    assert [d.lines for d in docs] == [["real"]]
    assert stats.warnings() == [f"2 empty files skipped (first: {empty})",
                                f"1 empty documents skipped (first: {j}:1)"]


def test_missing_file_or_glob_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"'.*nope\*\.txt' matches no file"):
        expand_patterns([str(tmp_path / "nope*.txt")])
    with pytest.raises(DataError, match="matches no file"):
        read_documents(str(tmp_path / "missing.txt"))


def test_corrupt_gzip_is_one_line_error(tmp_path):
    f = _write(tmp_path / "broken.txt.gz", b"\x1f\x8b\x08\x00not really gzip")
    with pytest.raises(DataError, match=r"broken\.txt\.gz: cannot read corpus file"):
        read_documents(str(f))


def test_write_bert_corpus_round_trip(tmp_path):
    f = _write(tmp_path / "a.txt", "One.\nTwo.\n\nThree.\n")
    docs = read_documents(str(f))
    out = write_bert_corpus(docs, tmp_path / "out.txt")
    assert open(out, encoding="utf-8").read() == "One.\nTwo.\n\nThree.\n"
    assert [d.lines for d in read_documents(out)] == [d.lines for d in docs]
    assert not list(tmp_path.glob("*.tmp*"))
