"""A per-code-point table that replays tf-text's accent stripping with core ops.

The training tokenizer (``kerasllm.data.WordPieceTokenizer``) strips accents
with tf-text's ``normalize_utf8(text, "NFD")`` followed by removing ``\\p{Mn}``.
Core TensorFlow has no Unicode normalisation op and stock TF Serving does not
link tf-text, so at export time we run those very tf-text ops once over every
assigned code point and keep the ones that change as a lookup table
(code point -> NFD form without ``Mn`` marks). NFD is a per-character
decomposition, and the only context-dependent part (re-ordering of combining
marks) is invisible once the marks are removed, so applying the table one
character at a time gives exactly the same text.
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


@functools.lru_cache(maxsize=1)
def accent_strip_table():
    """Return ``(keys, values)``: int64 code points and the UTF-8 bytes each becomes.

    Only code points that change are listed (e.g. ``ord("é") -> b"e"``, a lone
    combining accent -> ``b""``, a Hangul syllable -> its jamo). Needs
    tensorflow_text, at export time only; the SavedModel using the table does not.
    """
    import tensorflow_text as tf_text  # export time only, see module docstring

    points = np.array(_assigned_code_points(), dtype=np.int64)
    chars = tf.strings.unicode_encode(tf.reshape(tf.cast(points, tf.int32), (-1, 1)), "UTF-8")
    stripped = tf.strings.regex_replace(tf_text.normalize_utf8(chars, "NFD"), r"\p{Mn}", "")
    changed = (stripped != chars).numpy()
    return points[changed], stripped.numpy()[changed]


def code_point_class(points):
    """A regex character class matching exactly the given code points, as ranges."""
    points = sorted(int(p) for p in points)
    ranges, start = [], None
    for i, point in enumerate(points):
        start = point if start is None else start
        if i + 1 == len(points) or points[i + 1] != point + 1:
            ranges.append(rf"\x{{{start:X}}}" + (rf"-\x{{{point:X}}}" if point > start else ""))
            start = None
    return "[" + "".join(ranges) + "]" if ranges else r"[^\x00-\x{10FFFF}]"
