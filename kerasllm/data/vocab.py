"""Learn a BERT WordPiece vocabulary (vocab.txt) from a corpus.

Two learners, both fed the words of *our* pre-tokenizer
(``tokenizer.split_words``) so the learned pieces are exactly the words
``WordPieceTokenizer`` will look up:

- ``"tokenizers"`` (default): Hugging Face tokenizers' WordPiece trainer (Rust;
  already a keras-hub dependency), ~4 s on the 9 MB BBC corpus on 2 cores.
- ``"keras-hub"``: tensorflow-text's learner through
  ``keras_hub.tokenizers.compute_word_piece_vocabulary``. It is pure Python and
  took ~280 s on the same corpus, and it drops words seen fewer than 10 times.

Both give the same vocab.txt, byte for byte, in every process (any
PYTHONHASHSEED, any RAYON_NUM_THREADS), so the workers of a multi-worker job
each learn the same vocabulary. See ``_fixed_alphabet`` for what that takes with
the Rust trainer; tf-text's learner counts words in corpus order and sorts its
output by count, then alphabetically, so it needs nothing.

Layout of the written file: ``[PAD]``=0, ``[UNK]``=1, ``[CLS]``=2, ``[SEP]``=3,
``[MASK]``=4, then single characters and pieces as the learner orders them
("tokenizers": characters, then ``##`` characters, each by code point, then
merges in the order made). (Google's BERT vocab puts [UNK] at 100 and [CLS] at
101; ids only need to be consistent with the file, which ``WordPieceTokenizer`` reads.)
"""
import atexit
import os
import shutil
import tempfile

import tensorflow as tf
from keras_hub.tokenizers import compute_word_piece_vocabulary
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from kerasllm.data.corpus import iter_documents
from kerasllm.data.text_files import write_lines_atomically
from kerasllm.data.tokenizer import SPECIAL_TOKENS, split_words
from kerasllm.errors import DataError

MIN_VOCABULARY_SIZE = len(SPECIAL_TOKENS) + 1


def write_vocabulary(tokens, path):
    """Write vocab.txt (one token per line) atomically, so a crash never leaves half a vocab."""
    return write_lines_atomically(path, tokens)


def write_temporary_vocabulary(tokens):
    """Write ``tokens`` to a fresh temporary vocab.txt, removed when the process exits.

    For a vocabulary learned at the start of a job: its tokenizer (and the
    lookup tables of the input pipelines built from it) may read the file for
    as long as the job runs, so it cannot be deleted on return; every job used
    to leave one ``kerasllm-vocab-*`` folder in the temp directory behind.
    """
    folder = tempfile.mkdtemp(prefix="kerasllm-vocab-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return write_vocabulary(tokens, os.path.join(folder, "vocab.txt"))


LEARNERS = ("tokenizers", "keras-hub")


def _fixed_alphabet(texts):
    """Every character, then every ``##`` character, of the words in ``texts``, each by code point.

    The Rust trainer numbers ``##x`` (a character inside a word) in the order it
    walks its word-count ``HashMap``, whose hasher is seeded at random in every
    process, and it merges the most frequent pair first with ties going to the
    pair of *lower ids*. So each process numbered the ``##`` characters
    differently and, from that, merged equally frequent pairs in a different order:
    the same corpus gave a different vocab.txt every run, whatever PYTHONHASHSEED
    and with one thread (RAYON_NUM_THREADS=1) as well. Handing the trainer these
    pieces as special tokens gives them fixed ids before it walks the map; it then
    adds none of its own, and every tie breaks the same way. The set of pieces is
    exactly what the trainer would add (words are split on whitespace as by its
    ``WhitespaceSplit``), so the vocabulary keeps its size and content otherwise.
    """
    words = {word for text in texts for word in text.split()}
    starts = {word[0] for word in words}
    inside = {char for word in words for char in word[1:]}
    return sorted(starts | inside) + ["##" + char for char in sorted(inside)]


def _learn_with_tokenizers(words, size):
    """Hugging Face tokenizers' WordPiece trainer over space-joined pre-split words."""
    joined = words.map(lambda w: tf.strings.reduce_join(w, axis=-1, separator=" "))  # (batch,)
    texts = [line.decode("utf-8") for batch in joined.as_numpy_iterator() for line in batch]
    learner = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    learner.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordPieceTrainer(vocab_size=size,
                                        special_tokens=[*SPECIAL_TOKENS, *_fixed_alphabet(texts)],
                                        continuing_subword_prefix="##", show_progress=False)
    learner.train_from_iterator(texts, trainer=trainer)
    by_id = sorted(learner.get_vocab().items(), key=lambda item: item[1])
    return [token for token, _ in by_id][:size]


def learn_vocabulary(lines, size, lowercase=True, strip_accents=True, batch_size=1024,
                     learner="tokenizers"):
    """Learn at most ``size`` WordPiece tokens from an iterable of text lines.

    Args:
        lines: iterable of str (sentences / lines of the corpus).
        size: vocabulary size including the 5 special tokens.
        lowercase: lowercase before learning (uncased BERT).
        strip_accents: strip accents before learning.
        batch_size: lines pre-tokenized per TensorFlow call.
        learner: "tokenizers" (Rust, fast; default) or "keras-hub" (tensorflow-text's
            learner through ``compute_word_piece_vocabulary``; pure Python, slow).

    Returns:
        list of tokens, special tokens first ([PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4).
    """
    if size < MIN_VOCABULARY_SIZE:
        raise DataError(f"Vocabulary size {size} is too small; use at least {MIN_VOCABULARY_SIZE} "
                        f"({len(SPECIAL_TOKENS)} special tokens plus pieces), typically 8000-32000.")
    lines = list(lines)
    if not lines:
        raise DataError("The corpus has no text to learn a vocabulary from.")
    if learner not in LEARNERS:
        raise DataError(f"Unknown vocabulary learner {learner!r}; use one of {', '.join(LEARNERS)}.")
    words = tf.data.Dataset.from_tensor_slices(tf.constant(lines, tf.string)).batch(batch_size).map(
        lambda text: split_words(text, lowercase, strip_accents))  # (batch, None) words
    if learner == "keras-hub":
        return compute_word_piece_vocabulary(words, size, split=False,
                                             reserved_tokens=list(SPECIAL_TOKENS))
    return _learn_with_tokenizers(words, size)


def build_vocabulary(patterns, size, output, lowercase=True, strip_accents=True, stats=None,
                     learner="tokenizers"):
    """Read corpus files, learn a vocabulary and write it to ``output``; returns the tokens."""
    lines = (line for document in iter_documents(patterns, stats) for line in document.lines)
    tokens = learn_vocabulary(lines, size, lowercase, strip_accents, learner=learner)
    write_vocabulary(tokens, output)
    return tokens
