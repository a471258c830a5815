"""BERT WordPiece tokenizer written with core TensorFlow ops only, for TF Serving.

Why not the training tokenizer: stock TensorFlow Serving does not register the
tf-text kernels (``Op type not registered 'TFText>...'``, TF Serving issue 2267),
so a SavedModel that tokenizes in-graph must use ``tf.strings``, ``tf.lookup``
and control flow only. This module replays ``kerasllm.data.WordPieceTokenizer``
(HF ``BertWordPieceTokenizer`` semantics) step by step, vectorised over the batch:

1. invalid UTF-8 -> U+FFFD, which clean-up then drops (as HF);
2. special tokens typed in the text (``[MASK]``) are kept whole;
3. tab / newline -> space; control, format, private-use characters and U+FFFD dropped;
4. accents stripped (NFD, drop ``Mn``) through a per-code-point table
   (``char_tables.py``), then per-character lower-casing;
5. split on whitespace / separators; ASCII symbols, Unicode ``P*`` and CJK ideographs
   are words of their own;
6. greedy longest-match-first WordPiece with ``##`` continuations; a word longer
   than 100 characters, or one with no match, becomes ``[UNK]``.
"""
import tensorflow as tf

from kerasllm.export.char_tables import accent_strip_table

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# "\x01" + letter + "\x01" stands for a special token; input "\x01" is first made "\x02"
# (both are control characters that clean-up deletes anyway), so the marks cannot be forged.
MARK = "\x01"
SEPARATOR = "\x03"  # deleted by clean-up too, so free to mark word breaks
CONTROL = r"[\x00\x02-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\p{Co}\x{FFFD}]"  # Cc/Cf/Co but MARK
CJK = (r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
       r"\x{2B740}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]")
WHITESPACE = r"[\s\p{Z}]"
PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
MAX_CHARS_PER_WORD = 100
STEPS = 128  # power of two >= most pieces a word can have (MAX_CHARS_PER_WORD)


def _int_table(keys, values, default=-1):
    init = tf.lookup.KeyValueTensorInitializer(
        tf.convert_to_tensor(keys), tf.constant(values, dtype=tf.int64))
    return tf.lookup.StaticHashTable(init, default_value=default)


class AccentStripper(tf.Module):
    """Strips accents (NFD minus ``Mn``) from (N,) UTF-8 strings, one code point at a time."""

    def __init__(self):
        super().__init__()
        keys, values = accent_strip_table()
        self._index = _int_table(keys, list(range(len(keys))))
        self._values = tf.constant(values, dtype=tf.string)

    def __call__(self, text):  # (N,) string
        def strip():
            chars = tf.strings.unicode_split(text, "UTF-8")  # (N, None)
            points = tf.strings.unicode_decode(text, "UTF-8")  # (N, None)
            index = self._index.lookup(tf.cast(points.flat_values, tf.int64))
            mapped = tf.where(index >= 0, tf.gather(self._values, tf.maximum(index, 0)),
                              chars.flat_values)
            return tf.strings.reduce_join(chars.with_flat_values(mapped), axis=-1)

        ascii_only = tf.reduce_all(tf.strings.regex_full_match(text, r"[\x00-\x7f]*"))
        return tf.cond(ascii_only, lambda: text, strip)  # ASCII has no accents: skip the work


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
        int32 RaggedTensor (B, None) of token ids.

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
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        text = tf.strings.regex_replace(text, MARK, "\x02")
        text = tf.strings.regex_replace(text, r"[\t\n\r]", " ")
        if self._special_pattern:
            text = tf.strings.regex_replace(text, self._special_pattern, f" {MARK}\\1{MARK} ")
        text = tf.strings.regex_replace(text, CONTROL, "")
        if self._strip is not None:
            text = self._strip(text)
        if self._lowercase:  # per character, as HF: no final-sigma rule
            text = tf.strings.lower(tf.strings.regex_replace(text, "Σ", "σ"), encoding="utf-8")
        return text

    def words(self, text):
        """(B,) raw strings -> (B, None) RaggedTensor of words."""
        text = tf.strings.regex_replace(self.normalize(text), WHITESPACE, SEPARATOR)
        # CJK ideographs are split here with punctuation: NFD maps CJK to CJK only, so this
        # is the same as spacing them out before normalising (as HF does), one pass cheaper.
        text = tf.strings.regex_replace(text, f"{PUNCTUATION}|{CJK}", SEPARATOR + r"\0" + SEPARATOR)
        words = tf.strings.split(text, sep=SEPARATOR)  # (B, None)
        return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)

    def __call__(self, text, max_tokens):
        words = self.words(text)[:, :max_tokens]  # each word gives >= 1 token
        pieces = self._word_pieces(words.flat_values)  # (N, None)
        tokens = tf.RaggedTensor.from_row_splits(pieces, words.row_splits).merge_dims(1, 2)
        return tf.cast(tokens[:, :max_tokens], tf.int32)  # (B, None)

    def _word_pieces(self, words):
        """Greedy longest-match-first WordPiece of (N,) words -> int64 RaggedTensor (N, None)."""
        whole = self._vocab.lookup(words)  # (N,) id when the whole word is a token
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        first = tf.where(too_long, tf.cast(self.unk_id, tf.int64), whole)
        todo = tf.where((first < 0))[:, 0]  # words that need splitting
        split_ids = self._split_words(tf.gather(words, todo))  # (n, P), -1 = no piece
        width = tf.maximum(tf.shape(split_ids)[1], 1)
        dense = tf.pad(first[:, None], [[0, 0], [0, width - 1]], constant_values=-1)  # (N, P)
        dense = tf.tensor_scatter_nd_update(dense, todo[:, None], split_ids)
        return tf.ragged.boolean_mask(dense, dense >= 0)

    def _split_words(self, words):
        """WordPiece of (n,) words none of which is a whole token -> (n, STEPS) ids, -1 = none.

        No ``tf.while_loop`` (its per-iteration overhead dominated small batches): every
        candidate piece of every word is looked up at once, then the greedy path (start 0,
        jump by the longest piece found there) is followed by pointer doubling.
        """
        n = tf.shape(words)[0]
        length = tf.strings.length(words, unit="UTF8_CHAR")  # (n,)
        width = tf.reduce_max(tf.concat([length, [0]], axis=0))  # L, longest word
        pos = tf.range(width)  # (L,) piece starts
        cells = tf.where(pos[None, :] < length[:, None])  # (c, 2) int64 (word, start) pairs
        word_of, start = cells[:, 0], tf.cast(cells[:, 1], tf.int32)
        # candidate pieces (m,): each start with every length up to the longest token
        sizes = tf.ragged.range(1, 1 + tf.minimum(
            tf.gather(length, word_of) - start, self._max_piece_chars))  # (c, None)
        cell_of, size = sizes.value_rowids(), sizes.flat_values  # (m,), (m,)
        cand_start = tf.gather(start, cell_of)
        cand = tf.strings.substr(tf.gather(words, tf.gather(word_of, cell_of)), cand_start,
                                 size, unit="UTF8_CHAR")  # (m,)
        ids = tf.where(cand_start == 0, self._vocab.lookup(cand),  # first piece: plain token
                       self._suffixes.lookup(cand))  # later pieces: "##" tokens
        best = tf.math.unsorted_segment_max(  # (c,) longest piece at each start, 0 = none
            tf.where(ids >= 0, size, 0), cell_of, tf.shape(cells)[0])
        best_id = tf.gather(ids, sizes.row_splits[:-1] + tf.cast(tf.maximum(best - 1, 0), "int64"))
        shape = tf.cast(tf.stack([n, width]), tf.int64)
        best, best_id = tf.scatter_nd(cells, best, shape), tf.scatter_nd(cells, best_id, shape)
        # jump (n, L + 2): next start; the end of the word stays put, no piece -> sink L + 1
        columns = tf.range(width + 2)
        sink = width + 1
        jump = tf.pad(tf.where(best > 0, pos + best, sink), [[0, 0], [0, 2]], constant_values=sink)
        jump = tf.where(columns[None, :] == length[:, None], length[:, None], jump)
        piece_id = tf.pad(best_id, [[0, 0], [0, 2]], constant_values=-1)  # (n, L + 2)
        path = tf.zeros([n, 1], tf.int32)  # (n, 2^r) starts of the first 2^r pieces
        for _ in range(STEPS.bit_length() - 1):  # r = log2(STEPS) doublings
            path = tf.concat([path, tf.gather(jump, path, batch_dims=1)], axis=1)
            jump = tf.gather(jump, jump, batch_dims=1)  # jump^(2^r)
        failed = path[:, -1] == sink  # (n,)
        ids = tf.where(path < length[:, None], tf.gather(piece_id, path, batch_dims=1), -1)
        unk = tf.concat([tf.fill([n, 1], tf.cast(self.unk_id, tf.int64)),
                         tf.fill([n, STEPS - 1], tf.constant(-1, tf.int64))], axis=1)
        return tf.where(failed[:, None], unk, ids)  # (n, STEPS)
