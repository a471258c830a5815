"""BERT WordPiece tokenizer that gives the same ids as Hugging Face's ``BertWordPieceTokenizer``.

The wordpiece step is tensorflow-text's ``FastWordpieceTokenizer`` (a C++ op,
usable inside ``tf.data``). The text normalisation in front of it is our own
TensorFlow-op port of HF ``BertNormalizer`` + ``BertPreTokenizer``, because
keras-hub's ``WordPieceTokenizer`` pre-tokenizer differs from BERT / HF on real
text (measured in tests/test_data_tokenizer_parity.py):

* it lower-cases with ``case_fold_utf8`` = NFKC case folding ("²" -> "2",
  "ß" -> "ss", "ﬁ" -> "fi"); BERT uses plain per-character lowercasing;
* it splits words on control / format characters (soft hyphen, zero-width
  space) where BERT deletes them, and does not split on non-ASCII spaces
  (no-break space, ideographic space) where BERT does;
* its CJK range starts at U+2B820 where HF's starts at U+2B920;
* it caps words at 100 *bytes* where BERT caps them at 100 *characters*;
* it does not keep special tokens such as ``[MASK]`` typed in the text whole.
"""
import os
import re

import tensorflow as tf
import tensorflow_text as tf_text

from kerasllm.data.special_tokens import SPECIAL_TOKENS
from kerasllm.data.token_vocabulary import TokenVocabulary
from kerasllm.errors import DataError, location

MAX_CHARS_PER_WORD = 100  # HF / BERT: longer words become [UNK]

# HF BertNormalizer(clean_text=True): drop NUL, U+FFFD and "other" characters
# (Cc, Cf, Co; Cs cannot occur in valid UTF-8), except tab / newline / CR which are whitespace.
_TAB_NEWLINE = r"[\t\n\r]"
_CONTROL = r"[\p{Cc}\p{Cf}\p{Co}\x{FFFD}]"
# HF is_chinese_char ranges (note U+2B920, not U+2B820).
_CJK = (r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
        r"\x{2B740}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]")
# Rust char::is_whitespace after clean_text == ASCII space + Unicode separators (Zs, Zl, Zp).
_WHITESPACE = r"[\s\p{Z}]"
# HF is_bert_punc: ASCII punctuation (incl. $+<=>^`|~) or Unicode P*.
_PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"


def read_vocabulary(vocab_file, required=SPECIAL_TOKENS):
    """Tokens of a BERT ``vocab.txt`` (line i = id i) with clear errors for a bad file."""
    path = os.fspath(vocab_file)
    if not os.path.isfile(path):
        raise DataError(f"Vocabulary file '{path}' not found. Pass a BERT vocab.txt "
                        "(make one with `kerasllm vocab --corpus ... --output vocab.txt`).")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{location(path, line)}: vocabulary is not valid UTF-8.") from None
    tokens = [line.rstrip() for line in text.splitlines()]  # HF trims trailing whitespace too
    seen = {}
    for number, token in enumerate(tokens, start=1):
        if not token:
            raise DataError(f"{location(path, number)}: empty token in vocabulary; "
                            "every line must hold one token.")
        if token in seen:
            raise DataError(f"{location(path, number)}: token '{token}' repeats line {seen[token]}; "
                            "vocabulary tokens must be unique.")
        seen[token] = number
    missing = [t for t in required if t not in seen]
    if missing:
        raise DataError(f"{path}: vocabulary lacks special token(s) {', '.join(missing)}; "
                        f"a BERT vocab.txt must contain {', '.join(required)}.")
    return tokens


@tf.autograph.experimental.do_not_convert  # plain TF ops, no tensor-dependent Python control flow: skip slow autograph
def normalize(text, lowercase=True, strip_accents=True):
    """HF ``BertNormalizer`` on a string tensor of any shape (elementwise)."""
    text = tf.strings.regex_replace(text, _TAB_NEWLINE, " ")
    text = tf.strings.regex_replace(text, _CONTROL, "")
    text = tf.strings.regex_replace(text, _CJK, r" \0 ")
    if strip_accents:
        text = tf_text.normalize_utf8(text, "NFD")
        text = tf.strings.regex_replace(text, r"\p{Mn}", "")
    if lowercase:
        # HF lowercases char by char; ICU's string lowercasing would turn a final Σ into ς.
        text = tf.strings.lower(tf.strings.regex_replace(text, "Σ", "σ"), encoding="utf-8")
    return text


@tf.autograph.experimental.do_not_convert  # plain TF ops, no tensor-dependent Python control flow: skip slow autograph
def split_words(text, lowercase=True, strip_accents=True, special_pattern=None):
    """(B,) strings -> (B, None) words, as HF ``BertNormalizer`` + ``BertPreTokenizer``.

    Words longer than 100 characters become "[UNK]" (BERT's cap). Text matching
    ``special_pattern`` (a regex of special tokens) is kept whole and unnormalized.
    """
    # tf-text's regex_split stops at a NUL byte; HF's clean_text drops NUL anyway.
    text = tf.strings.regex_replace(text, r"\x00", "")
    if special_pattern:
        pieces = tf_text.regex_split(text, special_pattern, special_pattern)  # (B, S)
        is_special = tf.strings.regex_full_match(pieces.flat_values, special_pattern)
        normalized = normalize(pieces.flat_values, lowercase, strip_accents)
        text = pieces.with_flat_values(tf.where(is_special, pieces.flat_values, normalized))
        delimiters = f"{special_pattern}|{_WHITESPACE}|{_PUNCTUATION}"
        kept = f"{special_pattern}|{_PUNCTUATION}"
    else:
        text = normalize(text, lowercase, strip_accents)
        delimiters, kept = f"{_WHITESPACE}|{_PUNCTUATION}", _PUNCTUATION
    words = tf_text.regex_split(text, delimiters, kept)
    if isinstance(text, tf.RaggedTensor):
        words = words.merge_dims(-2, -1)  # (B, S, W) -> (B, W)
    too_long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
    return words.with_flat_values(tf.where(too_long, "[UNK]", words.flat_values))


class WordPieceTokenizer(TokenVocabulary):
    """BERT WordPiece tokenizer on tensorflow-text ops, id-for-id with HF ``BertWordPieceTokenizer``.

    Args:
        vocab_file: path of a BERT ``vocab.txt`` (one token per line, line i = id i),
            or a list of tokens. Must contain [PAD], [UNK], [CLS], [SEP], [MASK].
        lowercase: lowercase the text (uncased BERT). Defaults to True.
        strip_accents: remove accents (NFD, drop non-spacing marks). Defaults to True.
        keep_special_tokens: keep special tokens typed in the text (``"a [MASK] b"``)
            as one token, as HF does. Defaults to True.

    Example:
    >>> tok = WordPieceTokenizer("vocab.txt")
    >>> ids = tok.tokenize(["Hello, world!", "Zürich"])  # tf.RaggedTensor int32 (2, None)
    >>> tok.detokenize(ids)
    ['hello , world !', 'zurich']
    """

    def __init__(self, vocab_file, lowercase=True, strip_accents=True, keep_special_tokens=True):
        if isinstance(vocab_file, (list, tuple)):
            self.vocab_file = None
            missing = [t for t in SPECIAL_TOKENS if t not in vocab_file]
            if missing:
                raise DataError(f"Vocabulary lacks special token(s) {', '.join(missing)}.")
            super().__init__(vocab_file)
        else:
            self.vocab_file = os.fspath(vocab_file)
            super().__init__(read_vocabulary(self.vocab_file))
        self.lowercase = bool(lowercase)
        self.strip_accents = bool(strip_accents)
        self.keep_special_tokens = bool(keep_special_tokens)
        self.pad_id, self.unk_id, self.cls_id, self.sep_id, self.mask_id = (
            self._token_to_id[t] for t in SPECIAL_TOKENS)
        self._special_pattern = "|".join(re.escape(t) for t in SPECIAL_TOKENS)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=self.vocabulary, suffix_indicator="##", unknown_token="[UNK]",
            max_bytes_per_word=4 * MAX_CHARS_PER_WORD,  # the 100-character cap is applied in split_words
            token_out_type=tf.int32, no_pretokenization=True)

    @tf.autograph.experimental.do_not_convert
    def tokenize(self, text):
        """Strings -> token ids.

        Args:
            text: a str, a list of str, or a string tensor of shape () or (B,).

        Returns:
            ``tf.RaggedTensor`` int32 of shape (B, None) for a batch, or a 1-D
            ``tf.Tensor`` int32 for a single string. No [CLS]/[SEP] are added
            (see ``kerasllm.data.packing.pack_inputs``).
        """
        text = tf.convert_to_tensor(text, dtype=tf.string)
        scalar = text.shape.rank == 0
        special = self._special_pattern if self.keep_special_tokens else None
        words = split_words(tf.reshape(text, [-1]), self.lowercase, self.strip_accents, special)  # (B, W)
        ids = self._wordpiece.tokenize(words).merge_dims(-2, -1)  # (B, W, P) -> (B, T)
        return ids[0] if scalar else ids

    def detokenize(self, ids):
        """Ids -> text: tokens joined by spaces, "##" pieces glued to the previous one, [PAD] dropped.

        Python / numpy ids give str (1-D) or list[str] (2-D); tensors give a string tensor.
        """
        return self._join(ids, drop_id=self.pad_id, glue="##")
