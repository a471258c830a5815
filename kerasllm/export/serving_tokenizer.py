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
match, three ops instead of ~50), but RE2's DFA runs out of memory on an
8,000-token vocabulary inside TensorFlow's regex op and the NFA it falls back to
was slower (1.43 vs 1.25 ms per batch-1 call).
"""
import collections

import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2

from kerasllm.data.special_tokens import SPECIAL_TOKENS
from kerasllm.export.char_tables import accent_strip_table, code_point_class

# "\x01" + letter + "\x01" stands for a special token; input "\x01" is first made "\x02"
# (both are control characters that clean-up deletes anyway), so the marks cannot be forged.
MARK = "\x01"
CONTROL = r"[\x00\x02-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\p{Co}\x{FFFD}]"  # Cc/Cf/Co but MARK
CJK = (r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
       r"\x{2B740}-\x{2B81F}\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]")
PUNCTUATION = r"[!-/:-@\[-`{-~\p{P}]"
MAX_CHARS_PER_WORD = 100

# Flat tokens of a batch, sorted by row: values (K,), row ids (K,) int64, positions in
# their row (K,) int64, row count (scalar int64) and items per row (B,) int64 (or None).
TokenList = collections.namedtuple("TokenList", ["values", "rows", "positions", "nrows",
                                                 "lengths"], defaults=[None])


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
    """``transform(text)`` if ``condition`` else ``text``: skips a string pass nobody needs.

    The ``If`` is kept functional (TensorFlow lowers it to Switch / Merge by default): lowered,
    every op of the skipped branch is still visited as "dead" on every call, which cost a
    plain-ASCII request ~0.08 ms for the clean-up it skips; the functional ``If`` runs only
    the branch taken. tf.cond has no public switch for this, hence the private attribute.
    """
    graph = tf.compat.v1.get_default_graph()
    first_new_op = len(graph.get_operations())
    text = tf.cond(condition, lambda: transform(text), lambda: text)
    for op in graph.get_operations()[first_new_op:]:
        if op.type in ("If", "StatelessIf"):
            op._set_attr("_lower_using_switch_merge", attr_value_pb2.AttrValue(b=False))
    return text


def with_positions(values, rows, nrows):
    """``TokenList`` of flat ``values`` / ``rows`` (sorted by row), with each item's position."""
    lengths = tf.math.unsorted_segment_sum(tf.ones_like(rows), rows, nrows)  # (B,)
    starts = tf.cumsum(lengths, exclusive=True)  # (B,) index of each row's first item
    positions = tf.range(tf.size(rows, out_type=tf.int64)) - tf.gather(starts, rows)
    return TokenList(values, rows, positions, nrows, lengths)


def keep_first(tokens, most):
    """The ``TokenList`` of the first ``most`` items of each row of ``tokens``."""
    keep = _indices(tokens.positions < most)
    return TokenList(*(tf.gather(t, keep) for t in tokens[:3]), tokens.nrows,
                     tf.minimum(tokens.lengths, most))


class AccentStripper(tf.Module):
    """Strips accents (NFD minus ``Mn``) from (N,) UTF-8 strings, one code point at a time."""

    def __init__(self):
        super().__init__()
        keys, values = accent_strip_table()
        # code point -> its stripped text; "\x00" (deleted by clean-up before this runs) = same.
        # A table, not a gather from a string constant: the constant was copied into the
        # graph's control flow on every call (~0.04 ms a request, even for ASCII text).
        self._stripped = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(
            tf.constant(keys, tf.int64), tf.constant(values, tf.string)), default_value="\x00")
        self._accented = code_point_class(keys)  # regex class of the code points that change

    def __call__(self, text):  # (N,) string
        def strip(text):
            chars = tf.strings.unicode_split(text, "UTF-8")  # (N, None)
            points = tf.strings.unicode_decode(text, "UTF-8")  # (N, None)
            mapped = self._stripped.lookup(tf.cast(points.flat_values, tf.int64))
            mapped = tf.where(mapped == "\x00", chars.flat_values, mapped)
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
        suffixes = suffixes or {"": -1}  # a vocab without "##" pieces: a table must not be empty
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
        """(B,) raw strings -> ``TokenList`` of the words of each text, from its first ``max_words``.

        Only the first ``max_words`` words are split off; the rest of a text stays one last
        "word" (position ``max_words``), so a 100,000-character text costs one long string,
        not 20,000 words. Each word gives at least one token, so whatever that remainder
        becomes lands at token positions >= ``max_words``, which callers cut.
        """
        # CJK ideographs are split here with punctuation: NFD maps CJK to CJK only, so this
        # is the same as spacing them out before normalising (as HF does), one pass cheaper.
        text = tf.strings.regex_replace(self.normalize(text), f"{PUNCTUATION}|{CJK}", r" \0 ")
        # Split on runs of ASCII whitespace (the only spaces left): no empty words, except
        # that the remainder at position max_words may be "" (it gives no token).
        split = tf.raw_ops.StringSplitV2(input=text, sep="", maxsplit=max_words)
        return TokenList(split.values, *tf.unstack(split.indices, axis=1),
                         tf.size(text, out_type=tf.int64))

    def token_list(self, text, max_tokens):
        """(B,) raw strings -> ``TokenList`` of int32 ids; positions >= ``max_tokens`` may remain.

        Callers keep what they need (``pack_ids`` cuts each row to the sequence length,
        ``__call__`` to ``max_tokens``): one cut instead of two.
        """
        words = self.word_list(text, max_tokens)  # each word gives >= 1 token
        ids, word_of = self._word_pieces(words.values)  # (K,), (K,)
        return with_positions(tf.cast(ids, tf.int32), tf.gather(words.rows, word_of), words.nrows)

    def __call__(self, text, max_tokens):
        tokens = keep_first(self.token_list(text, max_tokens), max_tokens)
        return tf.RaggedTensor.from_value_rowids(
            tokens.values, tokens.rows, tokens.nrows, validate=False)  # (B, None)

    def _word_pieces(self, words):
        """Greedy longest-match-first WordPiece of (N,) words -> ids (K,), word index (K,)."""
        whole = self._vocab.lookup(words)  # (N,) id when the whole word is a token
        length = tf.cast(tf.strings.length(words, unit="UTF8_CHAR"), tf.int64)  # (N,)
        first = tf.where(length > MAX_CHARS_PER_WORD, tf.cast(self.unk_id, tf.int64), whole)
        todo = _indices(first < 0)  # words that need splitting
        split_ids, first_column = self._split_words(  # (n, W), -1 = no piece starts; (W,)
            tf.gather(words, todo), tf.gather(length, todo))
        dense = tf.where(first_column, first[:, None], -1)  # (N, W): whole-word ids first
        dense = tf.tensor_scatter_nd_update(dense, todo[:, None], split_ids)
        found = tf.where(dense >= 0)  # (K, 2) (word, character), in reading order
        return tf.gather_nd(dense, found), found[:, 0]

    def _split_words(self, words, length):
        """WordPiece of (n,) words none of which is a whole token, of (n,) int64 ``length``
        characters -> (n, W) ids, -1 = none, and (W,) bool ``column == 0``.

        W is the longest word + 1; column ``c`` holds the id of the piece that starts at
        character ``c``, so a row read left to right gives the word's pieces in order.
        No ``tf.while_loop`` (its per-iteration overhead dominated small batches): every
        candidate piece of every word is looked up at once, which gives ``end[c]``, the
        end of the longest piece at ``c``. The greedy path (start at 0, jump to ``end``)
        is then one triangular solve: with ``J[c, end[c]] = 1`` the visited characters
        ``v`` satisfy ``v = e0 + v J``, i.e. ``(I - J)^T v = e0``; every jump goes forward,
        so ``I - J`` is unit upper triangular and ``v`` comes out 0 / 1 exactly. A word is
        found when its end is visited, else it is ``[UNK]``. (This replaced pointer
        doubling: ~30 fewer graph ops, and op count is what batch-1 latency is made of.)
        """
        n = tf.size(words, out_type=tf.int64)
        width = tf.reduce_max(tf.concat([length, [0]], axis=0)) + 1  # W: starts 0..L
        columns = tf.range(width)  # (W,)
        # candidates (m, 3) = (word, start, size - 1): every piece that fits in its word
        size = tf.range(1, self._max_piece_chars + 1, dtype=tf.int64)  # (S,)
        cand = tf.where(columns[None, :, None] + size <= length[:, None, None])
        word, start, cand_size = tf.unstack(cand + [0, 0, 1], axis=1)  # (m,) each
        text = tf.strings.substr(tf.gather(words, word), tf.cast(start, tf.int32),
                                 tf.cast(cand_size, tf.int32), unit="UTF8_CHAR")  # (m,)
        ids = tf.where(start == 0, self._vocab.lookup(text),  # first piece: plain token
                       self._suffixes.lookup(text))  # later pieces: "##" tokens
        # the longest piece at each (word, start) as its end and id packed in one int64, so
        # one max picks it; -1 = no piece starts there
        packed = tf.where(ids >= 0, (start + cand_size) * 2**32 + ids, -1)  # (m,)
        best = tf.tensor_scatter_nd_max(tf.fill(tf.stack([n, width]), tf.constant(-1, tf.int64)),
                                        cand[:, :2], packed)  # (n, W)
        end, best_id = best // 2**32, best % 2**32  # (n, W) each; end -1 = dead end
        depth = tf.cast(width, tf.int32)
        jumps = tf.one_hot(end, depth)  # (n, W, W): J, a zero row at -1
        system = tf.one_hot(columns, depth) - jumps  # (n, W, W): I - J
        # column 0 of I - J is e0 (nothing jumps to 0): the right-hand side
        visited = tf.linalg.triangular_solve(system, system[:, :, :1], lower=False,
                                             adjoint=True)[:, :, 0] > 0.5  # (n, W)
        found = tf.gather(visited, length, batch_dims=1)  # (n,) its end was reached
        ids = tf.where(visited & (columns < length[:, None]), best_id, -1)
        first_column = columns == 0  # (W,)
        unknown = tf.where(first_column, tf.cast(self.unk_id, tf.int64), -1)  # (W,)
        return tf.where(found[:, None], ids, unknown), first_column
