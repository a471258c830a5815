"""Texts for predict / embed / fill-mask: ``--text`` arguments and ``--input FILE`` or ``-``.

``--input`` reads one text per line, or the ``--column`` field of a
``.jsonl`` / ``.csv`` / ``.tsv`` file; ``-`` reads lines from stdin. Every
text goes through ``decode_text``: invalid UTF-8 (Latin-1 from an old file or
terminal) becomes U+FFFD, and the command says so once. No TensorFlow here.
"""
import csv
import io
import json
import sys
from pathlib import Path

import click

from kerasllm.data.text_decoding import check_text_bytes, decode_text
from kerasllm.errors import DataError

INPUT = click.option("--input", "input_file", default=None,
                     help="File of texts: one per line, or the --column of a .jsonl / .csv / "
                          ".tsv file; '-' reads lines from stdin.")
COLUMN = click.option("--column", default="text", show_default=True,
                      help="Field holding the text in a .jsonl / .csv / .tsv --input.")


def _read_bytes(path):
    if path == "-":
        return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else \
            sys.stdin.read().encode("utf-8", errors="surrogateescape")
    path = Path(path)
    if path.is_dir():
        raise DataError(f"--input {path}: is a directory; pass a file of texts.")
    if not path.is_file():
        raise DataError(f"--input {path}: file not found; check the path.")
    return path.read_bytes()


def _records(text, path, column):
    name = str(path).lower()
    if name.endswith(".jsonl"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{number}: not valid JSON ({err.msg}); each line of a "
                                f".jsonl file must be one JSON object.") from None
            yield number, record
    elif name.endswith((".csv", ".tsv")):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if name.endswith(".tsv") else ",")
        if column not in (reader.fieldnames or []):
            raise DataError(f"{path}: no column '{column}' (columns: "
                            f"{', '.join(reader.fieldnames or [])}); pass --column NAME.")
        for number, record in enumerate(reader, start=2):
            yield number, record
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            yield number, {column: line}


def read_input(path, column="text"):
    """``(texts, replaced)`` from ``path`` ('-' = stdin)."""
    data = _read_bytes(path)
    where = "stdin" if path == "-" else str(path)
    check_text_bytes(data, f"--input {where}")
    text, replaced = decode_text(data)
    texts = []
    for number, record in _records(text.lstrip("\ufeff"), where, column):
        value = record.get(column) if isinstance(record, dict) else None
        if not isinstance(value, str):
            raise DataError(f"{where}:{number}: field '{column}' is missing or not a string; "
                            f"pass --column NAME for the field that holds the text.")
        texts.append(value)
    if not texts:
        raise DataError(f"--input {where}: holds no text; pass a file with one text per line.")
    return texts, replaced


def gather_texts(texts=(), input_file=None, column="text", what="--text"):
    """Texts from arguments and ``--input``, decoded; warns once about replaced bytes."""
    decoded = [decode_text(t) for t in texts]
    result = [t for t, _ in decoded]
    replaced = sum(r for _, r in decoded)
    if input_file is not None:
        more, file_replaced = read_input(input_file, column)
        result.extend(more)
        replaced += file_replaced
    if not result:
        raise click.UsageError(f"Pass {what} or --input FILE (or --input - for stdin).")
    warn_replaced(replaced)
    return result


def warn_replaced(replaced):
    """Say once (on stderr) that invalid UTF-8 bytes became U+FFFD, when ``replaced``."""
    if replaced:
        click.echo("Warning: invalid UTF-8 in the input text was replaced by U+FFFD "
                   "(is it Latin-1? save it as UTF-8 to keep those characters).", err=True)
