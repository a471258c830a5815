"""BERT's words with character offsets into the text they came from.

The WordPiece tokenizer's TF graph returns no offsets, so the tasks that must
point into the input (entity spans, answer spans) split the text into BERT's
words here and tokenize each word on its own; the pieces of a word map back
to its characters. ``kerasllm.export.entity_signature`` splits alike in core
TF ops.
"""
import unicodedata


def _is_punctuation(ch):
    code = ord(ch)
    return (33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126
            or unicodedata.category(ch).startswith("P"))


def _is_cjk(ch):
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B81F or 0x2B920 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def split_words(text):
    """``[(word, start, end)]``: BERT's words (tab, newline, CR, space and Unicode
    separators split; each punctuation mark and CJK ideograph is a word) with character
    offsets into ``text``. Python, not the tokenizer's TF graph, because that graph does
    not return offsets; ``kerasllm.export.entity_signature`` splits alike in core TF ops."""
    words, start = [], None
    for i, ch in enumerate(text + " "):
        alone = _is_punctuation(ch) or _is_cjk(ch)
        if ch in "\t\n\r " or unicodedata.category(ch) in ("Zs", "Zl", "Zp") or alone:
            if start is not None:
                words.append((text[start:i], start, i))
                start = None
            if alone and i < len(text):
                words.append((ch, i, i + 1))
        elif start is None:
            start = i
    return words
