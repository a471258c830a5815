"""BERT's words of raw texts with character offsets, in core TensorFlow ops (for serving).

The graph twin of ``kerasllm.data.word_offsets.split_words``: invalid UTF-8 ->
U+FFFD, then tab / newline / CR / space / Unicode separators split and each
punctuation mark and CJK ideograph is a word of its own. Used by the entity
and question-answering signatures, which must point into their input.
"""
import tensorflow as tf

from kerasllm.export.serving_tokenizer import CJK, PUNCTUATION

SPACE = r"[\t\n\r \p{Z}]"


def flat_indices(condition):
    """int64 indices (K,) where a 1-D boolean ``condition`` holds."""
    return tf.reshape(tf.where(condition), [-1])


def split_words(text):
    """Characters and words of (B,) texts, with each word's row and character offsets."""
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
    chars = tf.strings.unicode_split(text, "UTF-8")  # (B, None)
    flat, row = chars.flat_values, chars.value_rowids()
    position = tf.range(tf.size(flat, out_type=tf.int64)) - tf.gather(chars.row_splits, row)
    alone = tf.strings.regex_full_match(flat, f"{PUNCTUATION}|{CJK}")
    other = ~tf.strings.regex_full_match(flat, SPACE) & ~alone
    starts = alone | (other & ~(tf.pad(other, [[1, 0]])[:-1] & (position > 0)))
    in_word = flat_indices(other | alone)
    word_of = tf.gather(tf.cumsum(tf.cast(starts, tf.int64)) - 1, in_word)
    count = tf.reduce_sum(tf.cast(starts, tf.int64))
    first = flat_indices(starts)
    return {"input": text, "chars": chars, "flat": flat,
            "text": tf.strings.unsorted_segment_join(tf.gather(flat, in_word), word_of, count),
            "row": tf.gather(row, first), "start": tf.gather(position, first),
            "end": tf.gather(position, first) + tf.math.unsorted_segment_sum(
                tf.ones_like(word_of), word_of, count)}
