"""Next-token sampling: temperature, top-k and nucleus (top-p) filtering.

Pure tensor functions over float32 logits ``(B, V)``. Every knob is a tensor
(or a Python number) with an "off" value, so one traced graph serves every
setting: ``temperature == 0`` means greedy, ``top_k <= 0`` and ``top_p >= 1``
mean no filtering. Nothing depends on a static ``k``, so the functions trace
under ``tf.function(jit_compile=True)`` and inside a SavedModel signature.

We keep these few lines instead of ``keras_hub.samplers``: those samplers own
the whole decoding loop around a cache-based transformer ``call``; an LSTM
decodes by carrying ``[h, c]`` states, and an exported signature needs the
per-step functions themselves.
"""
import tensorflow as tf


def apply_temperature(logits, temperature):
    """Divide logits by ``temperature``; a temperature of 0 leaves them as they are."""
    temperature = tf.cast(temperature, logits.dtype)
    safe = tf.where(temperature > 0, temperature, tf.ones_like(temperature))
    return logits / safe


def _mask_below(logits, threshold):
    """Set logits below a per-row ``threshold`` (B, 1) to -inf."""
    return tf.where(logits < threshold, tf.constant(-float("inf"), logits.dtype), logits)


def top_k_filter(logits, top_k):
    """Keep the ``top_k`` largest logits per row (ties with the k-th kept); ``top_k <= 0``: all."""
    vocabulary_size = tf.shape(logits)[-1]
    k = tf.cast(top_k, tf.int32)
    k = tf.where(k > 0, tf.minimum(k, vocabulary_size), vocabulary_size)
    sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")  # (B, V)
    kth = tf.gather(sorted_logits, k - 1, axis=-1)[:, None]  # (B, 1)
    return _mask_below(logits, kth)


def top_p_filter(logits, top_p):
    """Nucleus filtering: keep the smallest set of top tokens whose probability reaches ``top_p``.

    The most likely token is always kept, so a tiny ``top_p`` is greedy;
    ``top_p >= 1`` keeps everything.
    """
    sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")  # (B, V)
    probabilities = tf.nn.softmax(sorted_logits, axis=-1)
    mass_before = tf.cumsum(probabilities, axis=-1, exclusive=True)  # (B, V)
    keep = mass_before < tf.cast(top_p, probabilities.dtype)
    num_kept = tf.maximum(tf.reduce_sum(tf.cast(keep, tf.int32), axis=-1), 1)  # (B,)
    threshold = tf.gather(sorted_logits, num_kept - 1, axis=-1, batch_dims=1)[:, None]  # (B, 1)
    filtered = _mask_below(logits, threshold)
    return tf.where(tf.cast(top_p, logits.dtype) >= 1.0, logits, filtered)


def gumbel_max_sample(logits, seed):
    """One draw per row from softmax(``logits``) via the Gumbel-max trick -> (B,) int32.

    ``tf.random.stateless_categorical`` has no XLA kernel; argmax of
    logits + Gumbel noise is the same distribution and compiles everywhere.
    """
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed=seed, minval=1e-20, maxval=1.0,
                                          dtype=logits.dtype)
    gumbel = -tf.math.log(-tf.math.log(uniform))
    return tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32)


def sample_next_token(logits, seed, temperature=1.0, top_k=0, top_p=1.0):
    """Draw one token id per row from ``logits`` (B, V) -> (B,) int32.

    Args:
        logits: float tensor (B, V).
        seed: int tensor of shape (2,), a stateless random seed; the same
            seed and logits always give the same tokens.
        temperature: 0 for greedy (argmax), else the softmax temperature.
        top_k: keep only the k most likely tokens (0: off).
        top_p: keep the nucleus of probability mass ``top_p`` (1.0: off).
    """
    logits = tf.cast(logits, tf.float32)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)  # (B,)
    filtered = top_p_filter(top_k_filter(apply_temperature(logits, temperature), top_k), top_p)
    sampled = gumbel_max_sample(filtered, seed)
    return tf.where(tf.cast(temperature, tf.float32) > 0, sampled, greedy)
