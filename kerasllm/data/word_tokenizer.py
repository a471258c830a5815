"""Word-level tokenizer for LSTM language models (PTB style): the N most frequent words + <unk>.

Text is split on whitespace only (PTB / WikiText text is already tokenized);
words outside the vocabulary become ``<unk>``, and ``<eos>`` is appended to
every line when the vocabulary has it, as in the Zaremba et al. PTB setup.
Vocabulary file: one token per line, ``<unk>`` first, then ``<eos>``, then words by
falling frequency (ties alphabetically), so the same corpus always gives the same ids.
"""
import collections
import os

import tensorflow as tf

from kerasllm.data.token_vocabulary import TokenVocabulary
from kerasllm.errors import DataError, location

UNK, EOS = "<unk>", "<eos>"


def learn_word_vocabulary(lines, max_size, lowercase=False, eos=True):
    """The ``max_size`` most frequent words of ``lines`` (special tokens included in the count)."""
    specials = [UNK, EOS] if eos else [UNK]
    if max_size <= len(specials):
        raise DataError(f"Word vocabulary size {max_size} is too small; it must exceed the "
                        f"{len(specials)} special token(s) {', '.join(specials)} (PTB uses 10000).")
    counts = collections.Counter()
    for line in lines:
        counts.update((line.lower() if lowercase else line).split())
    for special in specials:
        counts.pop(special, None)
    words = sorted(counts, key=lambda w: (-counts[w], w))[: max_size - len(specials)]
    return specials + words


def _read_word_vocabulary(path):
    if not os.path.isfile(path):
        raise DataError(f"Vocabulary file '{path}' not found; a word-level run needs its vocab.txt.")
    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            tokens = f.read().splitlines()
        except UnicodeDecodeError:
            raise DataError(f"{path}: vocabulary is not valid UTF-8.") from None
    for number, token in enumerate(tokens, start=1):
        if not token or token != token.strip() or len(token.split()) != 1:
            raise DataError(f"{location(path, number)}: '{token}' is not one word; "
                            "a word vocabulary holds one whitespace-free token per line.")
    if UNK not in tokens:
        raise DataError(f"{path}: word vocabulary lacks '{UNK}'; add it as the first line.")
    return tokens


class WordTokenizer(TokenVocabulary):
    """Whitespace word tokenizer with a fixed vocabulary; unknown words map to ``<unk>``.

    Args:
        vocab_file: path of a vocabulary file (one token per line) or a list of tokens;
            must contain ``<unk>``.
        lowercase: lowercase text before lookup. Defaults to False.
        add_eos: append ``<eos>`` to every line. Defaults to True when the
            vocabulary has ``<eos>``.

    Example:
    >>> vocab = learn_word_vocabulary(["the cat sat", "the dog"], max_size=5)
    >>> tok = WordTokenizer(vocab)
    >>> tok.tokenize(["the cat", "a dog"]).to_list()
    [[2, 3, 1], [0, 4, 1]]
    >>> tok.detokenize([2, 3, 1])
    'the cat <eos>'
    """

    def __init__(self, vocab_file, lowercase=False, add_eos=None):
        if isinstance(vocab_file, (list, tuple)):
            self.vocab_file = None
            tokens = list(vocab_file)
            if UNK not in tokens:
                raise DataError(f"Word vocabulary lacks '{UNK}'.")
        else:
            self.vocab_file = os.fspath(vocab_file)
            tokens = _read_word_vocabulary(self.vocab_file)
        super().__init__(tokens)
        self.lowercase = bool(lowercase)
        self.unk_id = self._token_to_id[UNK]
        self.eos_id = self._token_to_id.get(EOS)
        self.add_eos = (self.eos_id is not None) if add_eos is None else bool(add_eos)
        if self.add_eos and self.eos_id is None:
            raise DataError(f"add_eos=True but the word vocabulary has no '{EOS}'.")
        self.pad_id = None  # windows of a token stream need no padding
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(self._vocab_tensor, tf.range(len(tokens), dtype=tf.int32)),
            default_value=self.unk_id)

    @tf.autograph.experimental.do_not_convert  # plain TF ops: skip slow autograph in tf.data
    def tokenize(self, text):
        """Strings -> ids: tf.RaggedTensor int32 (B, None) for a batch, 1-D tf.Tensor for one string."""
        text = tf.convert_to_tensor(text, dtype=tf.string)
        scalar = text.shape.rank == 0
        text = tf.reshape(text, [-1])
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        words = tf.strings.split(text)  # (B, W) on any whitespace
        ids = tf.ragged.map_flat_values(self._table.lookup, words)
        if self.add_eos:
            eos = tf.fill([tf.shape(text)[0], 1], self.eos_id)
            ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1)
        return ids[0] if scalar else ids

    def detokenize(self, ids):
        """Ids -> words joined by spaces (str / list[str] for Python ids, string tensor for tensors)."""
        return self._join(ids, glue=None)


def build_word_vocabulary(patterns, max_size, output=None, lowercase=False, eos=True, stats=None):
    """Learn a word vocabulary from corpus files (``iter_documents`` patterns); write it if ``output``."""
    from kerasllm.data.corpus import iter_documents
    from kerasllm.data.vocab import write_vocabulary

    lines = (line for document in iter_documents(patterns, stats) for line in document.lines)
    tokens = learn_word_vocabulary(lines, max_size, lowercase, eos)
    if output is not None:
        write_vocabulary(tokens, output)
    return tokens
