"""Batches of similar-length texts, each cut to its longest row or to one of a few widths.

Why: packing every text to ``--seq-length`` makes a batch of 40-token reviews
cost as much as one of 128-token articles (attention is quadratic in the padded
width, every dense layer linear). Sorting texts by length inside groups of
batches and cutting each batch to its longest row removes nearly all padding.
Under XLA every new batch shape is a new compilation (seconds each on a CPU),
so with ``widths`` a batch is cut to the smallest of a few fixed widths that
holds its longest row: at most ``len(widths)`` compiled programs.

Why not ``tf.data.Dataset.bucket_by_sequence_length``: its batches come out in
the order buckets happen to fill, and the partial buckets flushed at the end of
a pass make the number of batches depend on the order. Training needs epoch
``e`` to be a fixed list of ``len // batch_size`` batches, a function of
``(seed, e)`` only, so a resumed run can start ``k`` batches in and see exactly
the batches an uninterrupted run would (``kerasllm.training.inputs``).

Arrays here are packed inputs (``token_ids``, ``segment_ids``, ``padding_mask``
of shape (N, seq_length), from ``encode_texts``), optionally with labels.
"""
import numpy as np
import tensorflow as tf

GROUP_BATCHES = 50  # batches sorted together: random enough, and most padding gone
_SMALLEST_WIDTH = 16


def bucket_widths(seq_length, smallest=_SMALLEST_WIDTH):
    """The widths a batch may be cut to under XLA: 16, 24, 32, 48, 64, 96, 128, ...

    Each width is at most 1.5x the one before (so a batch carries at most ~1/3
    padding beyond its longest row) and the last is ``seq_length``: for 128,
    seven programs to compile instead of one per distinct batch length.
    """
    widths, width = [], smallest
    while width < seq_length:
        widths.append(width)
        width = width * 3 // 2 if width & (width - 1) == 0 else width * 4 // 3
    return widths + [int(seq_length)]


def lengths_of(inputs):
    """Real tokens per row, (N,) int32, from a packed input dict."""
    return np.asarray(inputs["padding_mask"]).sum(axis=1).astype("int32")


@tf.autograph.experimental.do_not_convert  # plain TF ops: skip autograph's conversion
def cut_batch(inputs, *per_token, widths=None):
    """Cut a packed batch to its longest row, or to the smallest of ``widths`` that holds it.

    ``inputs`` is the packed dict; ``per_token`` are labels / weights beside it:
    those of rank >= 2 (B, T, ...) are cut along T too, others ((B,) class
    labels) pass through. Returns ``inputs`` alone, or ``(inputs, *per_token)``.
    """
    longest = tf.reduce_max(tf.reduce_sum(inputs["padding_mask"], axis=1))
    if widths:
        allowed = tf.constant(widths, longest.dtype)  # (W,) ascending
        longest = allowed[tf.searchsorted(allowed, longest[tf.newaxis])[0]]
    cut = {key: value[:, :longest] for key, value in inputs.items()}
    if not per_token:
        return cut
    rest = tf.nest.map_structure(lambda t: t[:, :longest] if t.shape.rank >= 2 else t, per_token)
    return (cut, *rest)


def cut_to_width(inputs, widths=None):
    """The packed dict ``inputs`` cut to its longest row (or the next of ``widths``)."""
    return cut_batch(inputs, widths=widths)


def grouped_order(lengths, batch_size, steps, seed, epoch, group=None):
    """Epoch ``epoch``'s batches as example indices, (steps, batch_size) int64.

    A stateless shuffle seeded by ``(seed, epoch)`` (the last ``N % batch_size``
    examples of it are left out this epoch), then a stable sort by length inside
    each run of ``group`` batches, then the batches themselves shuffled, so
    every batch holds texts of similar length and batches of all lengths are
    spread over the epoch.
    """
    group = group or GROUP_BATCHES
    lengths = tf.convert_to_tensor(lengths, tf.int64)
    pair = tf.cast(tf.stack([seed, epoch]), tf.int64)
    used = steps * batch_size
    order = tf.random.experimental.stateless_shuffle(
        tf.range(tf.size(lengths, out_type=tf.int64)), seed=pair)[:used]  # (S*B,)
    run = tf.range(used, dtype=tf.int64) // (group * batch_size)  # (S*B,) group number
    key = run * (tf.reduce_max(lengths) + 1) + tf.gather(lengths, order)
    order = tf.gather(order, tf.argsort(key, stable=True))
    order = tf.reshape(order, [steps, batch_size])  # (S, B)
    shuffle = tf.random.experimental.stateless_shuffle(
        tf.range(steps, dtype=tf.int64), seed=tf.random.experimental.stateless_fold_in(pair, 1))
    return tf.gather(order, shuffle)


def sorted_dataset(arrays, batch_size, widths=None):
    """A finite evaluation dataset: rows in length order, batched, each batch cut.

    ``arrays`` is ``x`` or ``(x, y, ...)`` with ``x`` a packed input dict and
    per-token arrays cut with it (``cut_batch``); the order of rows changes, so use it where only totals matter (``fit``'s
    ``validation_data``, accuracy).
    """
    x = arrays[0] if isinstance(arrays, tuple) else arrays
    order = np.argsort(lengths_of(x), kind="stable")
    data = tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(lambda a: a[order], arrays))
    data = data.batch(batch_size)
    return data.map(lambda x, *rest: cut_batch(x, *rest, widths=widths))


def length_order_map(fn, lengths, batch_size):
    """``fn(rows)`` over batches of row indices taken in order of ``lengths`` (N,) (stable);
    the (B, ...) results come back stacked in the original row order."""
    order = np.argsort(lengths, kind="stable")
    parts = [np.asarray(fn(order[start:start + batch_size]))
             for start in range(0, len(order), batch_size)]
    results = np.concatenate(parts, axis=0)
    restored = np.empty_like(results)
    restored[order] = results
    return restored


def map_in_length_order(fn, inputs, batch_size):
    """``fn`` over ``inputs`` (packed numpy dict) in length-sorted batches, each cut
    to its longest row; the results come back stacked in the original row order."""
    def batch(rows):
        longest = max(int(inputs["padding_mask"][rows].sum(axis=1).max()), 1)
        return fn({k: v[rows, :longest] for k, v in inputs.items()})

    return length_order_map(batch, lengths_of(inputs), batch_size)
