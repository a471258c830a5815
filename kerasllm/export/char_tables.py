"""Per-code-point tables that replay tf-text's Unicode normalisation with core ops.

The training tokenizer (keras-hub / tf-text) strips accents with
``normalize_utf8(text, "NFD")`` + removing ``\\p{Mn}`` *before* splitting words,
and lower-cases each word with ``case_fold_utf8`` (ICU NFKC_Casefold) *after*
splitting. Core TensorFlow has neither op, and stock TF Serving does not link
tf-text, so at export time we run those very tf-text ops once over every
assigned code point and store the results as two lookup tables:

- ``strip``: code point -> its NFD form with the ``Mn`` marks removed;
- ``fold``:  code point -> its NFKC_Casefold form.

Applied one character at a time in the serving graph they give the same text as
tf-text, except where NFKC re-composes several characters (Hangul syllables,
some Indic vowel signs): for those code points ``strip`` is skipped and ``fold``
maps the original character straight to ``fold(strip(c))``, so the composed
result still comes out right. Characters that arrive already decomposed across
several code points are the only remaining (rare) difference.
"""
import functools
import sys
import unicodedata

import numpy as np
import tensorflow as tf


def _assigned_code_points():
    """Every assigned, non-surrogate code point known to Python's Unicode database."""
    return [
        c for c in range(sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"
    ]


def _fold_each_char(text, fold):
    """Apply ``fold`` to every character of each string separately, then re-join."""
    chars = tf.strings.unicode_split(text, "UTF-8")  # (N, None)
    return tf.strings.reduce_join(chars.with_flat_values(fold(chars.flat_values)), axis=-1)


@functools.lru_cache(maxsize=4)
def build_char_tables(lowercase, strip_accents):
    """Return ``(strip_keys, strip_values, fold_keys, fold_values)`` numpy arrays.

    Keys are int32 code points, values UTF-8 byte strings; only code points whose
    mapping differs from themselves are listed. Needs tensorflow_text (export
    time only; the SavedModel that uses the tables does not).
    """
    import tensorflow_text as tf_text  # only at export time, see module docstring

    points = np.array(_assigned_code_points(), dtype=np.int32)
    chars = tf.strings.unicode_encode(tf.reshape(points, (-1, 1)), "UTF-8")  # (N,)
    stripped = chars
    if strip_accents:
        stripped = tf.strings.regex_replace(tf_text.normalize_utf8(chars, "NFD"), r"\p{Mn}", "")
    folded_whole = tf_text.case_fold_utf8(stripped) if lowercase else stripped
    folded_each = _fold_each_char(stripped, tf_text.case_fold_utf8) if lowercase else stripped
    # Where folding the stripped string as a whole differs from folding its characters one by
    # one, NFKC re-composed them: keep the original character and fold it in one step instead.
    recomposes = (folded_whole != folded_each).numpy()
    chars, stripped = chars.numpy(), stripped.numpy()
    folded_whole = folded_whole.numpy()
    strip_mask = (stripped != chars) & ~recomposes
    if lowercase:
        folded_chars = tf_text.case_fold_utf8(chars).numpy()
        fold_values = np.where(recomposes, folded_whole, folded_chars)
    else:
        fold_values = chars
    fold_mask = fold_values != chars
    return points[strip_mask], stripped[strip_mask], points[fold_mask], fold_values[fold_mask]
