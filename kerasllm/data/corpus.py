"""Read text corpora from many files and globs, with counted warnings instead of tracebacks.

Two layouts are understood:

* plain text (``.txt``, anything else, optionally ``.gz``) in the original BERT
  layout: one sentence (or line) per line, a blank line between documents;
* ``.jsonl`` (optionally ``.jsonl.gz``): one JSON object per line whose ``text``
  field is one document; its newlines separate the document's lines.

What goes wrong is handled the way a user expects:

* a pattern that matches no file, an unreadable / corrupt gzip file, a bad
  JSON line or a missing ``text`` field -> ``DataError`` naming ``file:line``;
* bytes that are not UTF-8 -> replaced by U+FFFD and counted
  (``3 lines with invalid UTF-8 replaced (first: a.txt:17)``);
* a file that is mostly not text (random bytes, a binary) -> ``DataError``
  naming the file and its share of bad bytes;
* an empty file or an empty JSONL document -> skipped and counted.

Nothing is skipped silently: ``CorpusStats.warnings()`` lists every count.
"""
import dataclasses
import glob
import gzip
import json
import os
import zlib
from typing import Iterator, List, Optional, Sequence, Union

from kerasllm.data.text_decoding import check_text_file
from kerasllm.data.text_files import write_lines_atomically
from kerasllm.errors import DataError, location

Patterns = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


@dataclasses.dataclass
class Document:
    """One document: where it starts and its non-empty, stripped lines."""

    source: str
    line: int
    lines: List[str]
    label: Optional[str] = None

    @property
    def text(self):
        return "\n".join(self.lines)


@dataclasses.dataclass
class CountedWarning:
    """How often one kind of problem happened and where it happened first."""

    message: str
    count: int = 0
    first: Optional[str] = None

    def add(self, where):
        self.count += 1
        if self.first is None:
            self.first = where

    def __str__(self):
        return f"{self.count} {self.message} (first: {self.first})"


@dataclasses.dataclass
class CorpusStats:
    """Counts for the CLI summaries; ``warnings()`` gives one line per problem kind."""

    files: int = 0
    documents: int = 0
    lines: int = 0
    invalid_utf8: CountedWarning = dataclasses.field(
        default_factory=lambda: CountedWarning("lines with invalid UTF-8 replaced by U+FFFD"))
    empty_files: CountedWarning = dataclasses.field(
        default_factory=lambda: CountedWarning("empty files skipped"))
    empty_documents: CountedWarning = dataclasses.field(
        default_factory=lambda: CountedWarning("empty documents skipped"))

    def warnings(self):
        counted = (self.invalid_utf8, self.empty_files, self.empty_documents)
        return [str(w) for w in counted if w.count]

    def summary(self):
        return f"{self.files} files, {self.documents} documents, {self.lines} lines"


def expand_patterns(patterns: Patterns, option: Optional[str] = None) -> List[str]:
    """Files named by paths, globs or directories, in a stable order.

    A pattern that matches nothing raises ``DataError`` (naming ``option``,
    e.g. ``--eval``, when given): a typo in a corpus path must not silently
    shrink the corpus.
    """
    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    files = []
    for pattern in patterns:
        pattern = os.fspath(pattern)
        if os.path.isdir(pattern):
            matches = [os.path.join(root, name)
                       for root, _, names in os.walk(pattern)
                       for name in names if not name.startswith(".")]
        else:
            matches = [m for m in glob.glob(pattern, recursive=True) if os.path.isfile(m)]
        if not matches:
            what = f"{option} pattern" if option else "Corpus pattern"
            raise DataError(f"{what} '{pattern}' matches no file. "
                            "Check the path or quote the glob so the shell does not expand it.")
        files.extend(sorted(matches))
    return list(dict.fromkeys(files))  # drop repeats, keep order


def _is_jsonl(path):
    return path.endswith(".jsonl") or path.endswith(".jsonl.gz")


def _read_lines(path, stats):
    """Yield ``(line_number, text)`` for every line, decoding UTF-8 leniently."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("utf-8", errors="replace")
                    stats.invalid_utf8.add(location(path, number))
                if number == 1:
                    text = text.lstrip("\ufeff")  # a byte-order mark is not text
                yield number, text.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: cannot read corpus file ({err}). "
                        "Check that it exists and, for .gz, that it is a complete gzip file.") from None


def _text_documents(path, stats):
    lines, start = [], None
    for number, text in _read_lines(path, stats):
        text = text.strip()
        if text:
            if start is None:
                start = number
            lines.append(text)
        elif lines:
            yield Document(path, start, lines)
            lines, start = [], None
    if lines:
        yield Document(path, start, lines)


def _jsonl_documents(path, stats, text_field):
    for number, raw in _read_lines(path, stats):
        if not raw.strip():
            continue
        where = location(path, number)
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as err:
            raise DataError(f"{where}: not valid JSON ({err.msg}). "
                            "Each line of a .jsonl file must be one JSON object.") from None
        if not isinstance(record, dict) or text_field not in record:
            raise DataError(f"{where}: missing field '{text_field}'. "
                            f"Each JSONL line needs a string '{text_field}' field.")
        text = record[text_field]
        if not isinstance(text, str):
            raise DataError(f"{where}: field '{text_field}' is {type(text).__name__}, expected a string.")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            stats.empty_documents.add(where)
            continue
        yield Document(path, number, lines)


def iter_documents(patterns: Patterns, stats: Optional[CorpusStats] = None,
                   text_field: str = "text") -> Iterator[Document]:
    """Yield every document of every file named by ``patterns``.

    Args:
        patterns: a path, glob or directory, or a list of them.
        stats: a ``CorpusStats`` to fill in (make one and print it afterwards).
        text_field: the JSONL field that holds a document's text.

    Example:
    >>> stats = CorpusStats()
    >>> docs = list(iter_documents(["wiki/*.txt", "news.jsonl.gz"], stats))
    >>> print(stats.summary(), *stats.warnings(), sep="\\n")
    """
    stats = stats if stats is not None else CorpusStats()
    for path in expand_patterns(patterns):
        check_text_file(path)
        stats.files += 1
        reader = _jsonl_documents(path, stats, text_field) if _is_jsonl(path) else _text_documents(path, stats)
        found = 0
        for document in reader:
            found += 1
            stats.documents += 1
            stats.lines += len(document.lines)
            yield document
        if not found:
            stats.empty_files.add(path)


def read_documents(patterns: Patterns, stats: Optional[CorpusStats] = None,
                   text_field: str = "text") -> List[Document]:
    """``list(iter_documents(...))`` for corpora that fit in memory."""
    return list(iter_documents(patterns, stats, text_field))


def bert_layout_lines(documents):
    """Lines of documents in BERT layout: a line per sentence, a blank line between documents."""
    for i, document in enumerate(documents):
        if i:
            yield ""
        yield from document.lines


def write_bert_corpus(documents, path):
    """Write documents in BERT layout, atomically; returns the path."""
    return write_lines_atomically(path, bert_layout_lines(documents))
