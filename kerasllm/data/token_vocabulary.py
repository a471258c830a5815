"""What every kerasllm tokenizer shares: a token list (line i = id i) and lookups both ways."""
import numpy as np
import tensorflow as tf

from kerasllm.data.text_files import write_lines_atomically
from kerasllm.errors import DataError


def as_id_tensor(ids):
    """Ids as given (tensor, numpy, nested lists) -> int32 tf.Tensor / tf.RaggedTensor."""
    if isinstance(ids, (tf.Tensor, tf.RaggedTensor)):
        return tf.cast(ids, tf.int32)
    if isinstance(ids, (list, tuple)) and ids and isinstance(ids[0], (list, tuple, np.ndarray)):
        return tf.ragged.constant([list(row) for row in ids], dtype=tf.int32)
    return tf.convert_to_tensor(np.asarray(ids, dtype=np.int32))


def python_or_tensor(outputs, inputs):
    """Python str / list[str] for Python or numpy inputs, string tensors for tensor inputs."""
    if isinstance(inputs, (tf.Tensor, tf.RaggedTensor)) or not tf.executing_eagerly():
        return outputs
    values = outputs.numpy()
    if isinstance(values, bytes):
        return values.decode("utf-8")
    return [v.decode("utf-8") for v in values]


class TokenVocabulary:
    """Base of ``WordPieceTokenizer`` and ``WordTokenizer``: vocabulary list, sizes, id <-> token."""

    def __init__(self, tokens):
        self.vocabulary = list(tokens)
        self._token_to_id = {token: i for i, token in enumerate(self.vocabulary)}
        self._vocab_tensor = tf.constant(self.vocabulary)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def id_to_token(self, token_id):
        if not 0 <= int(token_id) < len(self.vocabulary):
            raise DataError(f"Token id {token_id} is outside the vocabulary [0, {len(self.vocabulary) - 1}].")
        return self.vocabulary[int(token_id)]

    def token_to_id(self, token):
        if token not in self._token_to_id:
            raise DataError(f"Token '{token}' is not in the vocabulary.")
        return self._token_to_id[token]

    def _join(self, ids, drop_id=None, glue="##"):
        """Ids -> text: tokens joined by spaces, ``glue``-prefixed pieces stuck to the previous token."""
        tensor = as_id_tensor(ids)
        if drop_id is not None:
            if not isinstance(tensor, tf.RaggedTensor):
                tensor = tf.RaggedTensor.from_tensor(tensor) if tensor.shape.rank == 2 else tensor
            keep = tensor != drop_id
            tensor = (tf.ragged.boolean_mask(tensor, keep) if isinstance(tensor, tf.RaggedTensor)
                      else tf.boolean_mask(tensor, keep))
        tokens = tf.gather(self._vocab_tensor, tensor)
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        if glue:
            text = tf.strings.regex_replace(text, " " + glue, "")
        return python_or_tensor(text, ids)

    def save_vocabulary(self, path):
        """Write the vocabulary (one token per line) atomically."""
        return write_lines_atomically(path, self.vocabulary)

    def __call__(self, text):
        return self.tokenize(text)
