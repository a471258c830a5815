"""Token-tagging (NER) data: CoNLL-style files and JSONL -> sentences of (word, tag).

CoNLL: one word per line, ``word TAG`` or ``word<TAB>TAG`` (extra columns
allowed; the tag is the last column, or ``tag_column`` counted from 0);
sentences are separated by an empty or whitespace-only line; ``-DOCSTART-``
lines are skipped. JSONL: one object per line with ``tokens`` and ``tags``
lists of the same length. Tags are ``O`` or ``PREFIX-TYPE`` with prefix B, I,
E or S: BIO, IOB1 and BIOES all read alike (``kerasllm.data.tag_schemes``
decodes each by conlleval's rules). Every bad line is one ``DataError``
naming ``file:line``.
"""
import dataclasses
import os
import re
from typing import List

from kerasllm.data.jsonl import jsonl_rows
from kerasllm.errors import DataError, location

TAG = re.compile(r"^(O|[BIES]-.+)$")
DOCSTART = "-DOCSTART-"


@dataclasses.dataclass
class TaggingData:
    """Sentences of one file; ``lines[i]`` is the file line where sentence i starts."""

    path: str
    words: List[List[str]]
    tags: List[List[str]]
    lines: List[int]

    def __len__(self):
        return len(self.words)


def _check_tag(tag, path, line):
    if not TAG.match(tag):
        raise DataError(f"{location(path, line)}: tag {tag!r} is not O or B-/I-/E-/S-TYPE "
                        f"(BIO, IOB1 or BIOES); fix the tag or choose the column with --tag-column.")
    return tag


def _conll(path, tag_column):
    words, tags, lines, sentence, start = [], [], [], ([], []), None

    def close():
        if sentence[0]:
            words.append(sentence[0][:])
            tags.append(sentence[1][:])
            lines.append(start)
        sentence[0].clear()
        sentence[1].clear()

    with open(path, encoding="utf-8-sig") as f:
        for number, raw in enumerate(f, start=1):
            fields = raw.split()
            if not fields:
                close()
                continue
            if fields[0] == DOCSTART:
                close()
                continue
            if len(fields) < 2:
                raise DataError(f"{location(path, number)}: {raw.strip()!r} has no tag; write "
                                f"'word TAG' (space or tab) per line, a blank line between sentences.")
            column = len(fields) - 1 if tag_column is None else tag_column
            if not 0 < column < len(fields):
                raise DataError(f"{location(path, number)}: --tag-column {tag_column} but the line "
                                f"has {len(fields)} columns (0 = the word).")
            start = number if not sentence[0] else start
            sentence[0].append(fields[0])
            sentence[1].append(_check_tag(fields[column], path, number))
    close()
    return words, tags, lines


def _jsonl(path):
    words, tags, lines = [], [], []
    for number, record, _ in jsonl_rows(path):
        row_words, row_tags = record.get("tokens"), record.get("tags")
        if not isinstance(row_words, list) or not isinstance(row_tags, list):
            raise DataError(f"{location(path, number)}: expected an object with 'tokens' and "
                            f"'tags' lists.")
        if len(row_words) != len(row_tags):
            raise DataError(f"{location(path, number)}: {len(row_words)} tokens but "
                            f"{len(row_tags)} tags; give one tag per token.")
        if row_words:
            words.append([str(w) for w in row_words])
            tags.append([_check_tag(str(t), path, number) for t in row_tags])
            lines.append(number)
    return words, tags, lines


def read_tagging_file(path, tag_column=None):
    """Read a CoNLL-style (any extension but .jsonl / .json) or JSONL tagging file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: tagging file not found; check the path.")
    try:
        if path.endswith((".jsonl", ".json")):
            words, tags, lines = _jsonl(path)
        else:
            words, tags, lines = _conll(path, tag_column)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start}); "
                        f"save it as UTF-8.") from None
    if not words:
        raise DataError(f"{path}: no sentences; expected 'word TAG' lines (CoNLL) or JSONL "
                        f"objects with 'tokens' and 'tags'.")
    return TaggingData(path, words, tags, lines)


def tag_vocabulary(data):
    """Sorted distinct tags with ``O`` first; line i of labels.txt = tag id i."""
    distinct = {t for sentence in data.tags for t in sentence}
    return ["O"] + sorted(distinct - {"O"})
