"""Word-level tokenizer for LSTM runs in core TensorFlow ops (TF Serving has no tf-text).

Replays ``kerasllm.data.WordTokenizer``: optional per-character lower-casing,
split on whitespace, unknown words -> ``<unk>``, ``<eos>`` appended when the run
did so. Invalid UTF-8 is replaced by U+FFFD instead of failing the batch.
"""
import tensorflow as tf


class ServingWords(tf.Module):
    """Core-op whitespace word tokenizer.

    Args:
        vocabulary: list of str, line ``i`` is id ``i``; holds ``<unk>``.
        lowercase: bool, lower-case before lookup.
        add_eos: bool, append ``<eos>`` to every text.

    Call arguments:
        text: string tensor (B,).

    Returns:
        int32 RaggedTensor (B, None).

    Example:
    >>> tok = ServingWords(["<unk>", "<eos>", "the", "cat"], lowercase=True, add_eos=True)
    >>> tok(tf.constant(["The cat sat"])).to_list()
    [[2, 3, 0, 1]]
    """

    def __init__(self, vocabulary, lowercase=False, add_eos=False):
        super().__init__()
        first_ids = {}
        for i, token in enumerate(vocabulary):
            first_ids.setdefault(token, i)
        self.unk_id = first_ids["<unk>"]
        self.eos_id = first_ids.get("<eos>") if add_eos else None
        self._lowercase = bool(lowercase)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                list(first_ids), tf.constant(list(first_ids.values()), tf.int32)),
            default_value=self.unk_id)

    def __call__(self, text):
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        if self._lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        words = tf.strings.split(text)  # (B, None) on any whitespace
        ids = tf.ragged.map_flat_values(self._table.lookup, words)
        if self.eos_id is not None:
            eos = tf.fill([tf.shape(text)[0], 1], self.eos_id)
            ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        return ids
