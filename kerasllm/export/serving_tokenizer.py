"""BERT WordPiece tokenizer written with core TensorFlow ops only, for TF Serving.

Why not keras-hub / tf-text here: stock TensorFlow Serving does not register the
tf-text kernels (``Op type not registered 'TFText>...'``, TF Serving issue 2267),
so a SavedModel that tokenizes in-graph must use ``tf.strings``, ``tf.lookup``
and control flow only. This module replays the training tokenizer
(``keras_hub.tokenizers.WordPieceTokenizer``: tf-text ``FastWordpieceTokenizer``
behind BERT pre-tokenization) step by step, vectorised over the whole batch:

1. invalid UTF-8 -> U+FFFD;
2. accent stripping (NFD, drop ``Mn``) through a per-code-point table;
3. whitespace / control / format characters split words; ASCII symbols, Unicode
   ``P*`` and CJK ideographs become words of their own;
4. NFKC case folding of every word through a second table (``char_tables.py``);
5. greedy longest-match-first WordPiece with ``##`` continuations; a word longer
   than 100 bytes, or one with no match, becomes ``[UNK]``.

Special tokens written in the text (``[MASK]``) keep their ids when listed in
``special_tokens_in_strings``.
"""
import tensorflow as tf

from kerasllm.export.char_tables import build_char_tables

SEPARATOR = "\x01"  # control characters are all turned into word breaks, so this one is free
SPECIAL_MARK = "\x02"  # "\x02" + letter stands for a special token written in the text
WHITESPACE = r"\s|\p{Cc}|\p{Cf}"
PUNCTUATION_OR_CJK = "|".join([
    r"[!-/:-@\[-`{-~]",  # BERT treats every ASCII symbol as punctuation
    r"\p{P}",
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}]",
    r"[\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]",
])
MAX_BYTES_PER_WORD = 100  # as tf-text FastWordpieceTokenizer


def _int_table(keys, values, default=-1):
    init = tf.lookup.KeyValueTensorInitializer(
        tf.convert_to_tensor(keys), tf.constant(values, dtype=tf.int64))
    return tf.lookup.StaticHashTable(init, default_value=default)


class CharMap(tf.Module):
    """Maps chosen code points of each string to replacement strings (others unchanged)."""

    def __init__(self, keys, values, ascii_fallback=None):
        super().__init__()
        self._index = _int_table(tf.cast(keys, tf.int64), list(range(len(keys))))
        self._values = tf.constant(values if len(values) else [b""], dtype=tf.string)
        self._ascii_fallback = ascii_fallback

    def __call__(self, text):  # text: (N,) string
        def slow():
            chars = tf.strings.unicode_split(text, "UTF-8")  # (N, None)
            points = tf.strings.unicode_decode(text, "UTF-8")  # (N, None)
            index = self._index.lookup(tf.cast(points.flat_values, tf.int64))
            mapped = tf.where(index >= 0, tf.gather(self._values, tf.maximum(index, 0)),
                              chars.flat_values)
            return tf.strings.reduce_join(chars.with_flat_values(mapped), axis=-1)

        def fast():  # every table maps ASCII to itself (or to lower case, say ascii_fallback)
            return self._ascii_fallback(text) if self._ascii_fallback else text

        all_ascii = tf.reduce_all(tf.strings.regex_full_match(text, r"[\x00-\x7f]*"))
        return tf.cond(all_ascii, fast, slow)


class ServingWordPiece(tf.Module):
    """Core-op BERT WordPiece tokenizer.

    Args:
        vocabulary: list of str, line ``i`` is token id ``i``.
        lowercase: bool, case-fold words (as the training tokenizer).
        strip_accents: bool, drop accent marks (as the training tokenizer).
        special_tokens_in_strings: special tokens (e.g. ``["[MASK]"]``) that keep their id when
            they appear literally in the text.
        oov_token: str, the unknown token.

    Call arguments:
        text: string tensor (B,).
        max_tokens: int, keep at most this many tokens per text (only the first words are
            tokenized, so a 100,000-character text costs little).

    Returns:
        int32 RaggedTensor (B, None) of token ids.

    Example:
    >>> tok = ServingWordPiece(["[PAD]", "[UNK]", "the", "qu", "##ick"], True, True)
    >>> tok(tf.constant(["The quick"]), 8).to_list()
    [[2, 3, 4]]
    """

    def __init__(self, vocabulary, lowercase, strip_accents, special_tokens_in_strings=(),
                 oov_token="[UNK]"):
        super().__init__()
        first_ids = {}
        for i, token in enumerate(vocabulary):
            first_ids.setdefault(token, i)
        self.unk_id = first_ids[oov_token]
        self._specials = [(t, f"{SPECIAL_MARK}{chr(97 + k)}")
                          for k, t in enumerate(special_tokens_in_strings)]
        keys = list(first_ids) + [mark for _, mark in self._specials]
        ids = list(first_ids.values()) + [first_ids[t] for t, _ in self._specials]
        self._vocab = _int_table(keys, ids)
        self._max_piece_chars = max(len(t[2:] if t.startswith("##") else t) for t in vocabulary)
        strip_keys, strip_values, fold_keys, fold_values = build_char_tables(
            bool(lowercase), bool(strip_accents))
        self._strip = CharMap(strip_keys, strip_values)
        self._fold = CharMap(fold_keys, fold_values, tf.strings.lower if lowercase else None)

    def words(self, text):
        """Pre-tokenize (B,) strings into a (B, None) RaggedTensor of normalised words."""
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        text = self._strip(text)
        text = tf.strings.regex_replace(text, WHITESPACE, SEPARATOR)
        for token, mark in self._specials:
            text = tf.strings.regex_replace(text, _escape(token), SEPARATOR + mark + SEPARATOR)
        text = tf.strings.regex_replace(text, PUNCTUATION_OR_CJK, SEPARATOR + r"\0" + SEPARATOR)
        words = tf.strings.split(text, sep=SEPARATOR)  # (B, None)
        words = words.with_flat_values(self._fold(words.flat_values))
        return tf.ragged.boolean_mask(words, tf.strings.length(words) > 0)

    def __call__(self, text, max_tokens):
        words = self.words(text)[:, :max_tokens]  # each word gives >= 1 token
        pieces = self._word_pieces(words.flat_values)  # (N, None)
        tokens = tf.RaggedTensor.from_row_splits(pieces, words.row_splits).merge_dims(1, 2)
        return tf.cast(tokens[:, :max_tokens], tf.int32)  # (B, None)

    def _word_pieces(self, words):
        """Greedy longest-match-first WordPiece of (N,) words -> int64 RaggedTensor (N, None)."""
        whole = self._vocab.lookup(words)  # (N,) id when the whole word is a token
        too_long = tf.strings.length(words) > MAX_BYTES_PER_WORD
        first = tf.where(too_long, tf.cast(self.unk_id, tf.int64), whole)
        todo = tf.where((first < 0))[:, 0]  # words that need splitting
        split_ids = self._split_words(tf.gather(words, todo))  # (n, P), -1 = no piece
        width = tf.maximum(tf.shape(split_ids)[1], 1)
        dense = tf.pad(first[:, None], [[0, 0], [0, width - 1]], constant_values=-1)  # (N, P)
        dense = tf.tensor_scatter_nd_update(dense, todo[:, None], split_ids)
        return tf.ragged.boolean_mask(dense, dense >= 0)

    def _split_words(self, words):
        """WordPiece loop over (n,) words none of which is a whole token -> (n, P) ids."""
        n = tf.shape(words)[0]
        length = tf.strings.length(words, unit="UTF8_CHAR")  # (n,)
        sizes = tf.range(1, self._max_piece_chars + 1)  # (K,) candidate piece lengths
        grid = tf.stack([n, tf.size(sizes)])
        grid_words = tf.broadcast_to(words[:, None], grid)  # (n, K)
        grid_sizes = tf.broadcast_to(sizes[None, :], grid)  # (n, K)

        def body(step, start, failed, pieces):
            active = (start < length) & ~failed  # (n,)
            cand = tf.strings.substr(grid_words, start[:, None] + 0 * grid_sizes,
                                     grid_sizes, unit="UTF8_CHAR")  # (n, K)
            cand = tf.where(start[:, None] > 0, "##" + cand, cand)
            ids = self._vocab.lookup(cand)  # (n, K)
            fits = (ids >= 0) & (sizes[None, :] <= (length - start)[:, None])
            best = tf.reduce_max(tf.where(fits, sizes[None, :], 0), axis=1)  # (n,) 0 = none
            best_id = tf.gather(ids, tf.maximum(best - 1, 0), batch_dims=1)
            failed = failed | (active & (best == 0))
            piece = tf.where(active & (best > 0), best_id, -1)
            return step + 1, start + tf.where(active, best, 0), failed, pieces.write(step, piece)

        def cond(step, start, failed, pieces):
            return tf.reduce_any((start < length) & ~failed)

        pieces = tf.TensorArray(tf.int64, size=0, dynamic_size=True, element_shape=[None])
        _, _, failed, pieces = tf.while_loop(
            cond, body, [0, tf.zeros([n], tf.int32), tf.zeros([n], tf.bool), pieces])
        ids = tf.cond(pieces.size() > 0, lambda: tf.transpose(pieces.stack()),
                      lambda: tf.fill([n, 1], tf.constant(-1, tf.int64)))  # (n, P)
        unk = tf.concat([tf.fill([n, 1], tf.cast(self.unk_id, tf.int64)),
                         tf.fill([n, tf.shape(ids)[1] - 1], tf.constant(-1, tf.int64))], axis=1)
        return tf.where(failed[:, None], unk, ids)


def _escape(token):
    """Escape a literal token for an RE2 pattern."""
    return "".join("\\" + c if not c.isalnum() else c for c in token)
