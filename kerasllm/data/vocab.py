"""Learn a BERT WordPiece vocabulary (vocab.txt) from a corpus.

The learner is tensorflow-text's, through ``keras_hub.tokenizers.compute_word_piece_vocabulary``.
It is fed the words of *our* pre-tokenizer (``tokenizer.split_words``) so the
learned pieces are exactly the words ``WordPieceTokenizer`` will look up.

Layout of the written file: ``[PAD]``=0, ``[UNK]``=1, ``[CLS]``=2, ``[SEP]``=3,
``[MASK]``=4, then single characters and pieces as the learner orders them.
(Google's BERT vocab puts [UNK] at 100 and [CLS] at 101; ids only need to be
consistent with the file, which ``WordPieceTokenizer`` reads.)
"""
import tensorflow as tf
from keras_hub.tokenizers import compute_word_piece_vocabulary

from kerasllm.data.corpus import iter_documents
from kerasllm.data.text_files import write_lines_atomically
from kerasllm.data.tokenizer import SPECIAL_TOKENS, split_words
from kerasllm.errors import DataError

MIN_VOCABULARY_SIZE = len(SPECIAL_TOKENS) + 1


def write_vocabulary(tokens, path):
    """Write vocab.txt (one token per line) atomically, so a crash never leaves half a vocab."""
    return write_lines_atomically(path, tokens)


def learn_vocabulary(lines, size, lowercase=True, strip_accents=True, batch_size=1024):
    """Learn at most ``size`` WordPiece tokens from an iterable of text lines.

    Args:
        lines: iterable of str (sentences / lines of the corpus).
        size: vocabulary size including the 5 special tokens.
        lowercase: lowercase before learning (uncased BERT).
        strip_accents: strip accents before learning.
        batch_size: lines pre-tokenized per TensorFlow call.

    Returns:
        list of tokens, special tokens first ([PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4).
    """
    if size < MIN_VOCABULARY_SIZE:
        raise DataError(f"Vocabulary size {size} is too small; use at least {MIN_VOCABULARY_SIZE} "
                        f"({len(SPECIAL_TOKENS)} special tokens plus pieces), typically 8000-32000.")
    lines = list(lines)
    if not lines:
        raise DataError("The corpus has no text to learn a vocabulary from.")
    words = tf.data.Dataset.from_tensor_slices(tf.constant(lines, tf.string)).batch(batch_size).map(
        lambda text: split_words(text, lowercase, strip_accents))
    return compute_word_piece_vocabulary(words, size, split=False, reserved_tokens=list(SPECIAL_TOKENS))


def build_vocabulary(patterns, size, output, lowercase=True, strip_accents=True, stats=None):
    """Read corpus files, learn a vocabulary and write it to ``output``; returns the tokens."""
    lines = (line for document in iter_documents(patterns, stats) for line in document.lines)
    tokens = learn_vocabulary(lines, size, lowercase, strip_accents)
    write_vocabulary(tokens, output)
    return tokens
