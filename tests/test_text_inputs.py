"""One text-decoding helper: argv bytes, --input files / stdin, binary files refused."""
import gzip
import os
import subprocess
import sys

import pytest

from kerasllm.cli.text_inputs import read_input
from kerasllm.data.corpus import read_documents
from kerasllm.data.text_decoding import bad_share, check_text_file, decode_text
from kerasllm.errors import DataError

LATIN1 = "Le café était très bon, merci à vous.\n".encode("latin-1") * 50


def test_decode_text_replaces_invalid_utf8_from_argv_and_bytes():
    assert decode_text("plain") == ("plain", False)
    assert decode_text("café") == ("café", False)
    argv = b"caf\xe9 shares".decode("utf-8", errors="surrogateescape")  # what sys.argv holds
    assert decode_text(argv) == ("caf\ufffd shares", True)
    assert decode_text(b"caf\xe9") == ("caf\ufffd", True)


def test_binary_files_are_refused_latin1_and_gzip_text_accepted(tmp_path):
    binary = tmp_path / "random.txt"
    binary.write_bytes(os.urandom(200_000))
    with pytest.raises(DataError, match=r"random\.txt: \d+% of the first 65,536 bytes .* not a text"):
        check_text_file(binary)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(LATIN1)
    assert 0 < bad_share(LATIN1) < 0.25
    check_text_file(latin)
    packed = tmp_path / "text.txt.gz"
    packed.write_bytes(gzip.compress(b"one line\n" * 100))
    check_text_file(packed)
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("text saved as UTF-16\n".encode("utf-16") * 50)
    with pytest.raises(DataError, match="not a text file"):
        check_text_file(utf16)


def test_corpus_reader_refuses_a_binary_file(tmp_path):
    (tmp_path / "good.txt").write_text("a sentence .\nanother one .\n")
    (tmp_path / "bad.bin").write_bytes(os.urandom(10_000))
    with pytest.raises(DataError, match=r"bad\.bin: .*invalid UTF-8 or control characters"):
        read_documents([str(tmp_path / "good.txt"), str(tmp_path / "bad.bin")])


def test_read_input_lines_jsonl_csv_and_errors(tmp_path):
    lines = tmp_path / "texts.txt"
    lines.write_bytes(b"first text\ncaf\xe9 second\n")
    assert read_input(str(lines)) == (["first text", "caf\ufffd second"], True)
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text('{"body": "one"}\n\n{"body": "two"}\n')
    assert read_input(str(jsonl), column="body") == (["one", "two"], False)
    with pytest.raises(DataError, match=r"texts\.jsonl:1: field 'text' is missing"):
        read_input(str(jsonl))
    csv = tmp_path / "texts.csv"
    csv.write_text('id,text\n1,"hello, world"\n2,bye\n')
    assert read_input(str(csv)) == (["hello, world", "bye"], False)
    with pytest.raises(DataError, match=r"no column 'body' \(columns: id, text\)"):
        read_input(str(csv), column="body")
    with pytest.raises(DataError, match="is a directory"):
        read_input(str(tmp_path))
    with pytest.raises(DataError, match="file not found"):
        read_input(str(tmp_path / "missing.txt"))
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(DataError, match="holds no text"):
        read_input(str(tmp_path / "empty.txt"))


def test_corpus_and_text_modules_load_without_tensorflow():
    code = ("import sys\nimport kerasllm.data.corpus, kerasllm.data.text_decoding\n"
            "import kerasllm.cli.checks, kerasllm.cli.text_inputs, kerasllm.cli.train_checks\n"
            "import kerasllm.export.versioned_writer, kerasllm.evaluation\n"
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
