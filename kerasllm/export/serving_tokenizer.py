"""BERT WordPiece tokenizer written with core TensorFlow ops only, for TF Serving.

Why not the training tokenizer: stock TensorFlow Serving does not register the
tf-text kernels (``Op type not registered 'TFText>...'``, TF Serving issue 2267),
so a SavedModel that tokenizes in-graph must use ``tf.strings``, ``tf.lookup``
and control flow only. This module replays ``kerasllm.data.WordPieceTokenizer``
(HF ``BertWordPieceTokenizer`` semantics) step by step, vectorised over the batch:

1. invalid UTF-8 -> U+FFFD, which clean-up then drops (as HF);
2. special tokens typed in the text (``[MASK]``) are kept whole;
3. control, format, private-use characters and U+FFFD dropped; Unicode spaces -> " ";
4. accents stripped (NFD, drop ``Mn``) through a per-code-point table
   (``char_tables.py``), then per-character lower-casing;
5. split on whitespace; ASCII symbols, Unicode ``P*`` and CJK ideographs are words
   of their own;
6. greedy longest-match-first WordPiece with ``##`` continuations; a word longer
   than 100 characters, or one with no match, becomes ``[UNK]``.

Latency: every graph op costs the executor a few microseconds, so a batch of one
short text is dominated by op count, not by data. Hence tokens travel as flat
``TokenList`` tensors (values + row ids + positions) instead of RaggedTensors
(whose helpers add dozens of bookkeeping ops each), and each costly string pass
runs only when a cheap ``regex_full_match`` check says some text needs it
(plain ASCII text skips transcoding, control-character and accent clean-up).
Tried and dropped: WordPiece as one ``regex_replace`` over an alternation of the
vocabulary (leftmost-first alternation in longest-first order is greedy longest
match, three ops instead of ~120), but RE2's DFA runs out of memory on an
8,000-token vocabulary inside TensorFlow's regex op and the NFA it falls back to
was slower (1.43 vs 1.25 ms per batch-1 call).
"""
import collections

import tensorflow as tf

from kerasllm.export.char_tables import accent_strip_table, code_point_class

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# "\x01" + letter + "\x01" stands for a special token; input "\x01" is first made "\x02"
# (both are control characters that clean-up deletes anyway), so the marks cannot be forged.
MARK = "\x01"
CONTROL = r"[\x00\x02-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\p{Co}\x{FFFD}]"  # Cc/Cf/Co but MARK
CJK = (r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
       r"\x{2B740}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]")
PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
MAX_CHARS_PER_WORD = 100

# Flat tokens of a batch, sorted by row: values (K,), row ids (K,) int64, positions in
# their row (K,) int64, and row count (scalar int64).
TokenList = collections.namedtuple("TokenList", ["values", "rows", "positions", "nrows"])


def _int_table(keys, values, default=-1):
    init = tf.lookup.KeyValueTensorInitializer(
        tf.convert_to_tensor(keys), tf.constant(values, dtype=tf.int64))
    return tf.lookup.StaticHashTable(init, default_value=default)


def _any_match(text, pattern):
    """True when some string of (B,) ``text`` contains ``pattern`` (cheap: no output strings)."""
    return tf.reduce_any(tf.strings.regex_full_match(text, f"(?s).*(?:{pattern}).*"))


def _indices(condition):
    """int64 indices (K,) where a 1-D boolean ``condition`` holds."""
    return tf.reshape(tf.where(condition), [-1])


def _when(condition, transform, text):
    """``transform(text)`` if ``condition`` else ``text``: skips a string pass nobody needs."""
    return tf.cond(condition, lambda: transform(text), lambda: text)


def keep_first(values, rows, nrows, most):
    """``TokenList`` of the first ``most`` items of each row of flat ``values`` / ``rows``."""
    counts = tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, nrows)  # (B,)
    starts = tf.cumsum(counts, exclusive=True)  # (B,) index of each row's first item
    positions = tf.range(tf.size(rows, out_type=tf.int64)) - tf.gather(starts, rows)
    keep = _indices(positions < most)
    return TokenList(tf.gather(values, keep), tf.gather(rows, keep), tf.gather(positions, keep),
                     nrows)


def _follow(jump, path, rounds):
    """Pointer doubling: (n, 1) start indices -> (n, 2^rounds) indices after 0, 1, ... jumps."""
    for _ in range(rounds):
        path = tf.concat([path, tf.gather(jump, path)], axis=1)  # (n, 2^r)
        jump = tf.gather(jump, jump)  # jump^(2^r)
    return path


class AccentStripper(tf.Module):
    """Strips accents (NFD minus ``Mn``) from (N,) UTF-8 strings, one code point at a time."""

    def __init__(self):
        super().__init__()
        keys, values = accent_strip_table()
        self._index = _int_table(keys, list(range(len(keys))))
        self._values = tf.constant(values, dtype=tf.string)
        self._accented = code_point_class(keys)  # regex class of the code points that change

    def __call__(self, text):  # (N,) string
        def strip(text):
            chars = tf.strings.unicode_split(text, "UTF-8")  # (N, None)
            points = tf.strings.unicode_decode(text, "UTF-8")  # (N, None)
            index = self._index.lookup(tf.cast(points.flat_values, tf.int64))
            mapped = tf.where(index >= 0, tf.gather(self._values, tf.maximum(index, 0)),
                              chars.flat_values)
            return tf.strings.reduce_join(chars.with_flat_values(mapped), axis=-1)

        return _when(_any_match(text, self._accented), strip, text)


class ServingWordPiece(tf.Module):
    """Core-op BERT WordPiece tokenizer, id-for-id with ``kerasllm.data.WordPieceTokenizer``.

    Args:
        vocabulary: list of str, line ``i`` is token id ``i``; holds the BERT special tokens.
        lowercase: bool, lower-case the text (uncased models).
        strip_accents: bool, drop accent marks.
        keep_special_tokens: bool, keep ``[MASK]`` etc. typed in the text as one token.

    Call arguments:
        text: string tensor (B,).
        max_tokens: int, keep at most this many tokens per text (only the first words are
            tokenized, so a 100,000-character text costs little).

    Returns:
        int32 RaggedTensor (B, None) of token ids (``token_list`` gives them flat).

    Example:
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "qu", "##ick"]
    >>> tok = ServingWordPiece(vocab, lowercase=True, strip_accents=True)
    >>> tok(tf.constant(["The quick [MASK]"]), 8).to_list()
    [[5, 6, 7, 4]]
    """

    def __init__(self, vocabulary, lowercase=True, strip_accents=True, keep_special_tokens=True):
        super().__init__()
        first_ids = {}
        for i, token in enumerate(vocabulary):
            first_ids.setdefault(token, i)
        self.unk_id = first_ids["[UNK]"]
        specials = [t for t in SPECIAL_TOKENS if t in first_ids] if keep_special_tokens else []
        # "[MASK]" in the text becomes the word "\x01MASK\x01" (lower-cased with the text)
        self._special_pattern = (
            r"\[(" + "|".join(t[1:-1] for t in specials) + r")\]") if specials else None
        marks = {f"{MARK}{t[1:-1].lower() if lowercase else t[1:-1]}{MARK}": first_ids[t]
                 for t in specials}
        keys, ids = list(first_ids) + list(marks), list(first_ids.values()) + list(marks.values())
        self._vocab = _int_table(keys, ids)
        # "##" tokens keyed without "##", so pieces inside a word need no string concatenation
        suffixes = {t[2:]: i for t, i in first_ids.items() if t.startswith("##")}
        self._suffixes = _int_table(tf.constant(list(suffixes), tf.string), list(suffixes.values()))
        self._max_piece_chars = max(len(t[2:] if t.startswith("##") else t) for t in vocabulary)
        self._lowercase = bool(lowercase)
        self._strip = AccentStripper() if strip_accents else None

    def normalize(self, text):
        """(B,) raw strings -> (B,) cleaned, accent-stripped, lower-cased strings."""
        # printable ASCII without "[" (the usual request) needs none of the clean-up passes
        unusual = _any_match(text, r"[^\t\n\r\x20-\x5a\x5c-\x7e]")
        text = _when(unusual, self._clean, text)
        return tf.strings.lower(text, encoding="utf-8") if self._lowercase else text

    def _clean(self, text):
        unicode = _any_match(text, r"[^\x00-\x7f]")  # ASCII is valid UTF-8 with no accents
        text = _when(unicode, lambda t: tf.strings.unicode_transcode(
            t, "UTF-8", "UTF-8", errors="replace"), text)
        control = _any_match(text, f"{CONTROL}|{MARK}")
        text = _when(control, lambda t: tf.strings.regex_replace(t, MARK, "\x02"), text)
        if self._special_pattern:
            text = _when(_any_match(text, self._special_pattern), lambda t: tf.strings.regex_replace(
                t, self._special_pattern, f" {MARK}\\1{MARK} "), text)
        text = _when(control, lambda t: tf.strings.regex_replace(t, CONTROL, ""), text)
        return _when(unicode, self._normalize_unicode, text)

    def _normalize_unicode(self, text):
        text = tf.strings.regex_replace(text, r"\p{Z}", " ")  # Unicode spaces split words too
        if self._strip is not None:
            text = self._strip(text)
        if self._lowercase:  # per character, as HF: no final-sigma rule
            text = tf.strings.regex_replace(text, "Σ", "σ")
        return text

    def word_list(self, text, max_words):
        """(B,) raw strings -> ``TokenList`` of the first ``max_words`` words of each text."""
        # CJK ideographs are split here with punctuation: NFD maps CJK to CJK only, so this
        # is the same as spacing them out before normalising (as HF does), one pass cheaper.
        text = tf.strings.regex_replace(self.normalize(text), f"{PUNCTUATION}|{CJK}", r" \0 ")
        # Split on runs of ASCII whitespace (the only spaces left), no empty words.
        split = tf.raw_ops.StringSplitV2(input=text, sep="")
        nrows = tf.size(text, out_type=tf.int64)
        words = TokenList(split.values, *tf.unstack(split.indices, axis=1), nrows)
        keep = _indices(words.positions < max_words)
        return TokenList(*(tf.gather(t, keep) for t in words[:3]), nrows)

    def token_list(self, text, max_tokens):
        """(B,) raw strings -> ``TokenList`` of int32 ids, at most ``max_tokens`` per text."""
        words = self.word_list(text, max_tokens)  # each word gives >= 1 token
        ids, word_of = self._word_pieces(words.values)  # (K,), (K,)
        return keep_first(tf.cast(ids, tf.int32), tf.gather(words.rows, word_of), words.nrows,
                          max_tokens)

    def __call__(self, text, max_tokens):
        tokens = self.token_list(text, max_tokens)
        return tf.RaggedTensor.from_value_rowids(
            tokens.values, tokens.rows, tokens.nrows, validate=False)  # (B, None)

    def _word_pieces(self, words):
        """Greedy longest-match-first WordPiece of (N,) words -> ids (K,), word index (K,)."""
        whole = self._vocab.lookup(words)  # (N,) id when the whole word is a token
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        first = tf.where(too_long, tf.cast(self.unk_id, tf.int64), whole)
        todo = _indices(first < 0)  # words that need splitting
        split_ids = self._split_words(tf.gather(words, todo))  # (n, P), -1 = no piece
        pieces = tf.reduce_max(tf.concat([tf.reduce_sum(  # most pieces of any word, P >= 1
            tf.cast(split_ids >= 0, tf.int32), axis=1), [1]], axis=0))
        dense = tf.pad(first[:, None], [[0, 0], [0, pieces - 1]], constant_values=-1)  # (N, P)
        dense = tf.tensor_scatter_nd_update(dense, todo[:, None], split_ids[:, :pieces])
        found = tf.where(dense >= 0)  # (K, 2) (word, piece), in reading order
        return tf.gather_nd(dense, found), tf.unstack(found, axis=1)[0]

    def _split_words(self, words):
        """WordPiece of (n,) words none of which is a whole token -> (n, P) ids, -1 = none.

        No ``tf.while_loop`` (its per-iteration overhead dominated small batches): every
        candidate piece of every word is looked up at once, then the greedy path (start 0,
        jump by the longest piece found there) is followed by pointer doubling. Positions
        are flat indices into one (n * W + 1,) vector (W = longest word + 1, the last entry a
        sink for dead ends), so each step is one plain gather, not a batched one.
        """
        n = tf.size(words, out_type=tf.int64)
        length = tf.cast(tf.strings.length(words, unit="UTF8_CHAR"), tf.int64)  # (n,)
        row = tf.reduce_max(tf.concat([length, [0]], axis=0)) + 1  # W: starts 0..L
        sink = n * row
        # candidates (m, 3) = (word, start, size - 1): every piece that fits in its word
        size = tf.range(1, self._max_piece_chars + 1, dtype=tf.int64)  # (S,)
        cand = tf.where(tf.range(row)[None, :, None] + size <= length[:, None, None])
        word, start, cand_size = tf.unstack(cand + [0, 0, 1], axis=1)  # (m,) each
        text = tf.strings.substr(tf.gather(words, word), tf.cast(start, tf.int32),
                                 tf.cast(cand_size, tf.int32), unit="UTF8_CHAR")  # (m,)
        ids = tf.where(start == 0, self._vocab.lookup(text),  # first piece: plain token
                       self._suffixes.lookup(text))  # later pieces: "##" tokens
        # longest piece at each (word, start) and its id, packed in one int64 for one max
        packed = tf.where(ids >= 0, cand_size * 2**32 + ids, 0)  # (m,)
        best = tf.maximum(tf.math.unsorted_segment_max(  # (n * W,), 0 = no piece
            packed, word * row + start, sink), 0)
        best, best_id = best // 2**32, best % 2**32
        position = tf.range(sink)  # (n * W,) flat index of (word, start)
        ends = tf.range(n) * row + length  # (n,) flat index of each word's end
        word_end = tf.gather(ends, position // row)  # (n * W,)
        jump = tf.where(position == word_end, position,  # the end of the word stays put
                        tf.where(best > 0, position + best, sink))
        jump = tf.concat([jump, [sink]], axis=0)  # (n * W + 1,)
        starts = tf.range(n)[:, None] * row  # (n, 1)
        # 2^7 - 1 = 127 steps reach the end of any word (<= 100 characters). Always 7 rounds:
        # a tf.cond choosing fewer for short words cost more (its branches' bookkeeping) than
        # the wider gathers it saved (batch-1 tokenizer call 1.02 -> 0.97 ms without it).
        path = _follow(jump, starts, 7)
        piece_id = tf.concat([best_id, [-1]], axis=0)  # (n * W + 1,)
        ids = tf.where(path < ends[:, None], tf.gather(piece_id, path), -1)
        failed = path[:, -1:] == sink  # (n, 1) no piece at some point: the word is [UNK]
        first = tf.range(tf.shape(ids)[1]) == 0
        return tf.where(failed, tf.where(first, tf.cast(self.unk_id, tf.int64), -1), ids)
