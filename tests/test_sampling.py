"""Sampling helpers: temperature, top-k and top-p filters, seeded draws, XLA tracing."""
import numpy as np
import tensorflow as tf

from kerasllm.models.sampling import (apply_temperature, sample_next_token, top_k_filter,
                                      top_p_filter)

LOGITS = np.log(np.array([[0.5, 0.05, 0.3, 0.15], [0.1, 0.2, 0.3, 0.4]], "float32"))
SEED = tf.constant([3, 0], tf.int64)


def _kept(filtered):
    return np.isfinite(np.asarray(filtered))


def test_top_k_keeps_the_k_largest_and_zero_keeps_all():
    np.testing.assert_array_equal(_kept(top_k_filter(LOGITS, 2)),
                                  [[True, False, True, False], [False, False, True, True]])
    np.testing.assert_array_equal(_kept(top_k_filter(LOGITS, 0)), np.ones((2, 4), bool))
    np.testing.assert_array_equal(_kept(top_k_filter(LOGITS, 99)), np.ones((2, 4), bool))


def test_top_p_keeps_the_smallest_nucleus_reaching_p():
    # Row 0 sorted: .5 .3 .15 .05 -> p=0.75 needs .5+.3; row 1: .4 .3 .2 .1 -> .4+.3+.2.
    np.testing.assert_array_equal(_kept(top_p_filter(LOGITS, 0.75)),
                                  [[True, False, True, False], [False, True, True, True]])
    np.testing.assert_array_equal(_kept(top_p_filter(LOGITS, 1e-6)),
                                  [[True, False, False, False], [False, False, False, True]])
    np.testing.assert_array_equal(np.asarray(top_p_filter(LOGITS, 1.0)), LOGITS)


def test_temperature_scales_and_zero_means_greedy():
    np.testing.assert_allclose(apply_temperature(LOGITS, 2.0), LOGITS / 2.0)
    for seed in range(5):
        got = sample_next_token(LOGITS, tf.constant([seed, 0], tf.int64), temperature=0.0)
        np.testing.assert_array_equal(got, [0, 3])


def test_draws_follow_the_distribution_and_repeat_for_a_seed():
    logits = np.repeat(LOGITS[:1], 4000, axis=0)
    draws = np.asarray(sample_next_token(logits, SEED))
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 4000, [0.5, 0.05, 0.3, 0.15],
                               atol=0.03)
    np.testing.assert_array_equal(sample_next_token(logits, SEED), draws)
    assert not np.array_equal(sample_next_token(logits, tf.constant([4, 0], tf.int64)), draws)
    filtered = np.asarray(sample_next_token(logits, SEED, top_k=2, top_p=0.99))
    assert set(np.unique(filtered)) == {0, 2}


def test_sampling_traces_under_xla_with_tensor_knobs():
    @tf.function(jit_compile=True)
    def draw(logits, seed, temperature, top_k, top_p):
        return sample_next_token(logits, seed, temperature, top_k, top_p)

    got = draw(tf.constant(LOGITS), SEED, tf.constant(1.0), tf.constant(1), tf.constant(1.0))
    np.testing.assert_array_equal(got, [0, 3])
    got = draw(tf.constant(LOGITS), SEED, tf.constant(1.0), tf.constant(0), tf.constant(1e-6))
    np.testing.assert_array_equal(got, [0, 3])
