"""Learn a BERT WordPiece vocabulary (vocab.txt) from a corpus.

The learner is Hugging Face ``tokenizers``' WordPiece trainer (Rust; already a
keras-hub dependency). tensorflow-text's learner (behind
``keras_hub.tokenizers.compute_word_piece_vocabulary``) is pure Python and took
~280 s on the 9 MB BBC corpus on 2 cores, against about a second here. The
trainer is fed the words of *our* pre-tokenizer (``tokenizer.split_words``),
joined by single spaces and split back on whitespace only, so the learned
pieces are exactly the words ``WordPieceTokenizer`` will look up.

Layout of the written file: ``[PAD]``=0, ``[UNK]``=1, ``[CLS]``=2, ``[SEP]``=3,
``[MASK]``=4, then single characters and pieces as the learner orders them.
(Google's BERT vocab puts [UNK] at 100 and [CLS] at 101; ids only need to be
consistent with the file, which ``WordPieceTokenizer`` reads.)
"""
import tensorflow as tf
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

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
        lambda text: tf.strings.reduce_join(split_words(text, lowercase, strip_accents),
                                            axis=-1, separator=" "))  # (batch,) words joined
    learner = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    learner.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordPieceTrainer(vocab_size=size, special_tokens=list(SPECIAL_TOKENS),
                                        continuing_subword_prefix="##", show_progress=False)
    texts = ([line.decode("utf-8") for line in batch] for batch in words.as_numpy_iterator())
    learner.train_from_iterator(texts, trainer=trainer)
    by_id = sorted(learner.get_vocab().items(), key=lambda item: item[1])
    return [token for token, _ in by_id][:size]


def build_vocabulary(patterns, size, output, lowercase=True, strip_accents=True, stats=None):
    """Read corpus files, learn a vocabulary and write it to ``output``; returns the tokens."""
    lines = (line for document in iter_documents(patterns, stats) for line in document.lines)
    tokens = learn_vocabulary(lines, size, lowercase, strip_accents)
    write_vocabulary(tokens, output)
    return tokens
