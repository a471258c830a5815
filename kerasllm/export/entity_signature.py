"""Raw text -> named entities in core TensorFlow ops: the TF Serving signature of ner runs.

The same steps as ``kerasllm.tagging.tag_entities``, vectorised over the batch:

1. invalid UTF-8 -> U+FFFD; split into characters;
2. words with character offsets: tab / newline / CR / space / Unicode separators
   split, each punctuation mark and CJK ideograph is a word of its own;
3. every word tokenized on its own (``ServingWordPiece``: id-for-id the training
   tokenizer);
4. windows as ``kerasllm.data.tag_windows``: a word goes to window
   ``c // (seq_length - 2)`` (``c`` = pieces before it in its text), packed
   ``[CLS] pieces [SEP]``; one extra empty window keeps the batch non-empty;
5. each word's tag = argmax at its first piece (``O`` with probability 1 for a
   word with no pieces);
6. entities by conlleval's rules (``kerasllm.data.tag_schemes``): each rule looks
   at a tag and the one before or after it only, so the spans come out of a
   few element-wise ops and a ``searchsorted`` for each entity's end.

Outputs are padded to the most entities of any text in the batch (at least one
slot): ``entity_type`` / ``entity_text`` "" and ``start`` / ``end`` / ``score``
-1 where there is none, and ``count`` (B,) says how many are real. An empty or
invalid text gives count 0.
"""
import tensorflow as tf

from kerasllm.export.serving_words import flat_indices as _flat, split_words

O, B, I, E, S, OTHER = range(6)  # tag prefixes
PREFIXES = {"B": B, "I": I, "E": E, "S": S}


def tag_tables(labels):
    """``(prefix codes, type ids, type names)`` of the tag names; ``O`` has type -1."""
    prefixes, types, names = [], [], []
    for label in labels:
        if label == "O" or "-" not in label:
            prefixes.append(O)
            types.append(-1)
            continue
        prefix, kind = label.split("-", 1)
        names += [kind] if kind not in names else []
        prefixes.append(PREFIXES.get(prefix, OTHER))
        types.append(names.index(kind))
    return prefixes, types, names


def _in(codes, *values):
    return tf.reduce_any(tf.stack([tf.equal(codes, v) for v in values]), axis=0)


def chunk_ends(prev, prev_type, tag, kind):
    """Element-wise ``kerasllm.data.tag_schemes._ends``: a chunk ends between the tags."""
    return (_in(prev, E, S) | (_in(prev, B, I) & _in(tag, B, S, O))
            | ((prev != O) & (prev_type != kind)))


def chunk_starts(prev, prev_type, tag, kind):
    """Element-wise ``kerasllm.data.tag_schemes._starts``: a chunk starts at ``tag``."""
    return (_in(tag, B, S) | (_in(tag, I, E) & _in(prev, O, E, S))
            | ((tag != O) & (prev_type != kind)))


def _shift(values, row, by, fill):
    """``values`` moved ``by`` (+1: the previous item, -1: the next) within each row; ``fill``
    where that item is in another row or missing."""
    pad = [[1, 0]] if by > 0 else [[0, 1]]
    moved = tf.pad(values, pad, constant_values=fill)
    moved_row = tf.pad(row, pad, constant_values=-1)
    moved, moved_row = (moved[:-1], moved_row[:-1]) if by > 0 else (moved[1:], moved_row[1:])
    return tf.where(tf.equal(moved_row, row), moved, fill)


class EntityServing(tf.Module):
    """Entities of raw texts with a ``BertTokenClassifier`` (see the module docstring).

    Args:
        model: the run's ``BertTokenClassifier`` (its variables are tracked by the caller).
        tokenizer: a ``ServingWordPiece``.
        labels: tag names, line i = tag id i.
        seq_length: int, tokens per window.
        cls_id, sep_id, pad_id: int special token ids.
    """

    def __init__(self, model, tokenizer, labels, seq_length, cls_id, sep_id, pad_id):
        super().__init__()
        self.model = self._no_dependency(model)
        self.tokenizer = tokenizer
        prefixes, types, names = tag_tables(labels)
        self.prefixes, self.types = tf.constant(prefixes), tf.constant(types)
        self.type_names = tf.constant(names or [""])
        self.outside = labels.index("O") if "O" in labels else 0
        self.budget = int(seq_length) - 2
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id

    def windows(self, words, nrows):
        """Packed windows (N, T) and, per word, its window, column and piece count."""
        tokens = self.tokenizer.token_list(words["text"], self.budget)  # rows = word index
        n = tokens.lengths  # (W,) pieces per word
        before = tf.cumsum(n, exclusive=True)
        row_first = tf.math.unsorted_segment_min(before, words["row"], nrows)
        before -= tf.gather(row_first, words["row"])  # pieces before the word in its text
        window, at = before // self.budget, before % self.budget
        has = n > 0
        keys = words["row"] * 2**32 + window  # ascending in reading order
        unique = tf.unique(tf.boolean_mask(keys, has)).y
        win = tf.where(has, tf.searchsorted(unique, keys, out_type=tf.int64), 0)  # (W,)
        n_win = tf.size(unique, out_type=tf.int64)
        first_at = tf.math.unsorted_segment_min(tf.boolean_mask(at, has),
                                                tf.boolean_mask(win, has), n_win)
        column = 1 + at - tf.gather(tf.concat([first_at, [0]], 0), win)  # first piece's column
        column = tf.where(has, column, 0)  # a word without pieces reads [CLS] (then ignored)
        kept = tf.minimum(n, self.budget - at)
        length = tf.concat([tf.math.unsorted_segment_max(
            tf.boolean_mask(column - 1 + kept, has), tf.boolean_mask(win, has), n_win), [0]], 0)
        width = tf.reduce_max(length) + 2
        keep = _flat(tokens.positions < tf.gather(kept, tokens.rows))
        piece_word = tf.gather(tokens.rows, keep)
        indices = tf.stack([tf.gather(win, piece_word),
                            tf.gather(column, piece_word) + tf.gather(tokens.positions, keep)], 1)
        ids = tf.scatter_nd(indices, tf.gather(tokens.values, keep), tf.stack([n_win + 1, width]))
        columns = tf.range(width)[None, :]
        last = length[:, None] + 1
        ids = tf.where(columns == 0, self.cls_id, tf.where(columns == last, self.sep_id, tf.where(
            columns < last, ids, self.pad_id)))
        inputs = {"token_ids": ids, "segment_ids": tf.zeros_like(ids),
                  "padding_mask": tf.cast(columns <= last, tf.int32)}
        return inputs, win, column, has

    def word_tags(self, inputs, win, column, has):
        """(W,) tag id and its probability of each word, read at its first piece."""
        probabilities = tf.nn.softmax(self.model(inputs, training=False), axis=-1)  # (N, T, C)
        first = tf.gather_nd(probabilities, tf.stack([win, column], 1))  # (W, C)
        tag = tf.where(has, tf.argmax(first, axis=-1, output_type=tf.int32), self.outside)
        return tag, tf.where(has, tf.reduce_max(first, axis=-1), 1.0)

    def __call__(self, text):
        nrows = tf.size(text, out_type=tf.int64)
        words = split_words(text)
        tag, probability = self.word_tags(*self.windows(words, nrows))
        prefix, kind, row = tf.gather(self.prefixes, tag), tf.gather(self.types, tag), words["row"]
        prev = [_shift(prefix, row, 1, O), _shift(kind, row, 1, -1)]
        after = [_shift(prefix, row, -1, O), _shift(kind, row, -1, -1)]
        starts = _flat(chunk_starts(*prev, prefix, kind))
        closes = _flat(chunk_ends(prefix, kind, *after))  # the chunk ends after this word
        ends = tf.gather(closes, tf.searchsorted(closes, starts, out_type=tf.int64))  # each start's last word
        total = tf.cumsum(probability, exclusive=True)
        score = (tf.gather(total, ends) + tf.gather(probability, ends) - tf.gather(total, starts)
                 ) / tf.cast(ends - starts + 1, tf.float32)
        entity_row = tf.gather(row, starts)
        offset = tf.gather(words["chars"].row_splits, entity_row)
        char_start = tf.gather(words["start"], starts)
        char_end = tf.gather(words["end"], ends)
        return self._pad(nrows, entity_row, {
            "entity_type": tf.gather(self.type_names, tf.gather(kind, starts)),
            "entity_text": self._texts(words["flat"], offset + char_start, offset + char_end),
            "start": tf.cast(char_start, tf.int32), "end": tf.cast(char_end, tf.int32),
            "score": score})

    @staticmethod
    def _texts(flat, starts, ends):
        """The characters ``flat[starts[k]:ends[k]]`` joined, for every entity k."""
        index = tf.range(tf.size(flat, out_type=tf.int64))
        entity = tf.searchsorted(starts, index, side="right", out_type=tf.int64) - 1
        # characters before the first entity read the -1 appended (gather cannot take [])
        end = tf.gather(tf.concat([ends, [-1]], 0), tf.where(entity >= 0, entity, tf.size(
            ends, out_type=tf.int64)))
        inside = _flat((entity >= 0) & (index < end))
        return tf.strings.unsorted_segment_join(tf.gather(flat, inside), tf.gather(entity, inside),
                                                tf.size(starts, out_type=tf.int64))

    @staticmethod
    def _pad(nrows, row, values):
        count = tf.math.unsorted_segment_sum(tf.ones_like(row), row, nrows)  # (B,)
        position = tf.range(tf.size(row, out_type=tf.int64)) - tf.gather(
            tf.cumsum(count, exclusive=True), row)
        width = tf.maximum(tf.reduce_max(tf.concat([count, [0]], 0)), 1)
        indices = tf.stack([row, position], 1)
        out = {"count": tf.cast(count, tf.int32)}
        for name, value in values.items():
            blank = tf.constant("" if value.dtype == tf.string else -1, value.dtype)
            out[name] = tf.tensor_scatter_nd_update(tf.fill(tf.stack([nrows, width]), blank),
                                                    indices, value)
        return out
