"""Question + context -> answer span in core TensorFlow ops: the TF Serving signature of qa runs.

The same steps as ``kerasllm.answering.answer``, vectorised over the batch:

1. the question's first ``max_query_length`` pieces (at most half the window); the context split into words
   with character offsets (``serving_words``), each word tokenized on its own;
2. windows ``[CLS] question [SEP] context pieces [SEP]`` starting every
   ``doc_stride`` pieces (``kerasllm.data.qa_windows``), one more empty window so
   the batch is never empty;
3. every valid span (both ends on the context, start <= end, at most
   ``max_answer_length`` tokens) scored start + end logit; the question's best
   over all its windows is the answer, its probability among all those spans the
   score; a SQuAD v2.0 run answers "" when the [CLS] null score (its lowest over
   the windows) beats the best span by more than ``null_threshold``;
4. the answer's first and last word give its character offsets into the context.

No answer (an empty context, the null answer) gives ``answer`` "" and ``start`` /
``end`` -1, ``score`` 0.
"""
import tensorflow as tf

from kerasllm.data.qa_windows import query_budget
from kerasllm.export.serving_tokenizer import keep_first
from kerasllm.export.serving_words import split_words

NO_SPAN = -1e30  # the score of an invalid span: exp(NO_SPAN - best) is 0


def _dense(tokens, nrows):
    """(B, L) int32 of a ``TokenList`` (0-padded) and its (B,) lengths."""
    width = tf.reduce_max(tf.concat([tokens.lengths, [0]], 0))
    dense = tf.scatter_nd(tf.stack([tokens.rows, tokens.positions], 1), tokens.values,
                          tf.stack([nrows, width]))
    return dense, tokens.lengths


class AnswerServing(tf.Module):
    """Answers to (question, context) pairs with a ``BertQuestionAnswering`` (see the module
    docstring). ``model``'s variables are tracked by the caller."""

    def __init__(self, model, tokenizer, seq_length, doc_stride, max_query_length, cls_id,
                 sep_id, pad_id, null_threshold=None, max_answer_length=30):
        super().__init__()
        self.model = self._no_dependency(model)
        self.tokenizer = tokenizer
        self.seq_length, self.doc_stride = int(seq_length), int(doc_stride)
        self.max_query_length, self.max_answer_length = int(max_query_length), int(max_answer_length)
        self.cls_id, self.sep_id, self.pad_id = cls_id, sep_id, pad_id
        self.null_threshold = null_threshold

    def windows(self, question, words, nrows):
        """Packed windows and, per window, its row and the context word of each column."""
        most = query_budget(self.seq_length, self.max_query_length)
        query, q_len = _dense(keep_first(self.tokenizer.token_list(question, most), most), nrows)
        pieces = self.tokenizer.token_list(words["text"], self.seq_length)  # rows = words
        piece_row = tf.gather(words["row"], pieces.rows)
        n = tf.math.unsorted_segment_sum(tf.ones_like(piece_row), piece_row, nrows)  # (B,)
        offset = tf.cumsum(n, exclusive=True)
        room = self.seq_length - q_len - 3  # (B,) >= half the window
        stride = tf.minimum(room, self.doc_stride)
        count = 1 + (tf.maximum(n - room, 0) + stride - 1) // stride  # windows per text
        windows = tf.ragged.range(count)
        row = tf.concat([windows.value_rowids(), [0]], 0)  # + the empty window
        first = tf.concat([windows.flat_values, [0]], 0) * tf.gather(stride, row)
        q = tf.gather(q_len, row)
        length = tf.minimum(tf.gather(room, row), tf.gather(n, row) - first)
        length = tf.concat([length[:-1], [0]], 0)
        q = tf.concat([q[:-1], [0]], 0)
        width = tf.reduce_max(q + length) + 3
        column = tf.range(width, dtype=tf.int64)[None, :]  # (1, T)
        q, first, length = q[:, None], first[:, None], length[:, None]  # (N, 1)
        in_query = (column >= 1) & (column <= q)
        j = column - q - 2 + first  # context piece index within the text
        in_context = (column >= q + 2) & (column < q + 2 + length)
        where = tf.gather(offset, row)[:, None] + tf.where(in_context, j, 0)
        safe = tf.minimum(where, tf.maximum(tf.size(pieces.values, out_type=tf.int64) - 1, 0))
        context_ids = tf.gather(tf.concat([pieces.values, [0]], 0), safe)
        query_ids = tf.gather(query, row, batch_dims=0)
        query_ids = tf.gather(tf.pad(query_ids, [[0, 0], [1, 1]]), tf.minimum(column[0], tf.shape(
            query_ids, out_type=tf.int64)[1] + 1), axis=1)
        sep = (column == q + 1) | (column == q + 2 + length)
        ids = tf.where(column == 0, self.cls_id, tf.where(sep, self.sep_id, tf.where(
            in_query, query_ids, tf.where(in_context, context_ids, self.pad_id))))
        inputs = {"token_ids": tf.cast(ids, tf.int32),
                  "segment_ids": tf.cast((column >= q + 2) & (column <= q + 2 + length), tf.int32),
                  "padding_mask": tf.cast(column <= q + 2 + length, tf.int32)}
        word = tf.where(in_context, tf.gather(tf.concat([pieces.rows, [-1]], 0), safe), -1)
        return inputs, row, word

    def __call__(self, question, context):
        nrows = tf.size(question, out_type=tf.int64)
        words = split_words(context)
        inputs, row, word = self.windows(question, words, nrows)
        logits = self.model(inputs, training=False)
        start, end = logits["start"], logits["end"]  # (N, T)
        on_context = word >= 0
        width = tf.shape(start, out_type=tf.int64)[1]
        s, e = tf.range(width)[:, None], tf.range(width)[None, :]
        valid = (on_context[:, :, None] & on_context[:, None, :] & (e >= s)
                 & (e - s < self.max_answer_length))
        scores = tf.where(valid, start[:, :, None] + end[:, None, :], NO_SPAN)  # (N, T, T)
        flat = tf.reshape(scores, [tf.shape(scores)[0], -1])
        window_best = tf.reduce_max(flat, axis=1)  # (N,)
        best = tf.math.unsorted_segment_max(window_best, row, nrows)  # (B,)
        real = best > NO_SPAN / 2  # segment max of nothing is float32's lowest, not -inf
        safe_best = tf.where(real, best, 0.0)
        total = tf.math.unsorted_segment_sum(
            tf.reduce_sum(tf.exp(flat - tf.gather(safe_best, row)[:, None]), axis=1), row, nrows)
        # the first window (in order) that reaches its text's best
        n = tf.shape(row, out_type=tf.int64)[0]
        hits = tf.where(window_best == tf.gather(best, row), tf.range(n), n)
        chosen = tf.minimum(tf.math.unsorted_segment_min(hits, row, nrows), n - 1)
        index = tf.argmax(tf.gather(flat, chosen), axis=1)  # first flat argmax, as numpy
        first, last = index // width, index % width
        first_word = tf.gather(word, chosen, axis=0)
        first_word = tf.gather(first_word, first, batch_dims=1)
        last_word = tf.gather(tf.gather(word, chosen, axis=0), last, batch_dims=1)
        if self.null_threshold is not None:
            null = tf.math.unsorted_segment_min(start[:, 0] + end[:, 0], row, nrows)
            real &= ~(null - best > self.null_threshold)
        none = tf.size(words["start"], out_type=tf.int64)  # the 0 appended below
        starts = tf.gather(tf.concat([words["start"], [0]], 0), tf.where(real, first_word, none))
        ends = tf.gather(tf.concat([words["end"], [0]], 0), tf.where(real, last_word, none))
        text = tf.strings.substr(words["input"], tf.cast(starts, tf.int32),
                                 tf.cast(ends - starts, tf.int32), unit="UTF8_CHAR")
        return {"answer": tf.where(real, text, ""),
                "start": tf.where(real, tf.cast(starts, tf.int32), -1),
                "end": tf.where(real, tf.cast(ends, tf.int32), -1),
                "score": tf.where(real, 1.0 / total, 0.0)}
