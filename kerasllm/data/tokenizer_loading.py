"""``load_tokenizer``: the one place that turns a run directory or vocab file into a tokenizer."""
import os

from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.data.word_tokenizer import WordTokenizer
from kerasllm.errors import DataError

VOCAB_FILE = "vocab.txt"
KINDS = ("wordpiece", "word")


def load_tokenizer(run_dir_or_vocab, kind="wordpiece", lowercase=None, strip_accents=None, **options):
    """Load a ``WordPieceTokenizer`` (kind "wordpiece") or ``WordTokenizer`` (kind "word").

    Args:
        run_dir_or_vocab: a vocab.txt file, or a directory that holds one (a RUN_DIR).
        kind: "wordpiece" (BERT) or "word" (LSTM LM).
        lowercase: None keeps each tokenizer's default (wordpiece True, word False).
        strip_accents: wordpiece only; None means True.
        **options: passed on (e.g. ``add_eos`` for word tokenizers).
    """
    path = os.fspath(run_dir_or_vocab)
    if os.path.isdir(path):
        path = os.path.join(path, VOCAB_FILE)
    if kind == "wordpiece":
        return WordPieceTokenizer(path, lowercase=True if lowercase is None else lowercase,
                                  strip_accents=True if strip_accents is None else strip_accents, **options)
    if kind == "word":
        return WordTokenizer(path, lowercase=bool(lowercase), **options)
    raise DataError(f"Unknown tokenizer type '{kind}'; use one of {', '.join(KINDS)}.")
