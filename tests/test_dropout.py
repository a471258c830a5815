"""kerasllm's Dropout: keras' Dropout semantics, eager and under XLA, for both
mask generators; the hash generator's bits are uniform and uncorrelated."""
import numpy as np
import pytest
import tensorflow as tf

from kerasllm.layers import Dropout
from kerasllm.layers.dropout import hash_random_bits
from tests.layer_test_helpers import run_layer_checks

X = np.ones((200, 500), "float32")
GENERATORS = ["hash", "philox"]


def _check_dropped(y, rate):
    y = np.asarray(y)
    dropped = np.mean(y == 0)
    assert abs(dropped - rate) < 0.01, f"dropped {dropped:.4f} of the entries, rate {rate}"
    np.testing.assert_allclose(y[y != 0], 1.0 / (1.0 - rate), rtol=1e-6)


@pytest.mark.parametrize("generator", GENERATORS)
def test_dropout_layer_checks(generator):
    run_layer_checks(Dropout, {"rate": 0.3, "seed": 3, "generator": generator},
                     input_data=X[:4, :8], expected_output_shape=(4, 8), run_training=False)


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_dropout_drops_the_rate_and_rescales_eager_and_under_xla(rate, generator):
    layer = Dropout(rate, seed=1, generator=generator)
    _check_dropped(layer(X, training=True), rate)
    compiled = tf.function(lambda x: layer(x, training=True), jit_compile=True)
    first, second = np.asarray(compiled(X)), np.asarray(compiled(X))
    _check_dropped(first, rate)
    _check_dropped(second, rate)
    assert not np.array_equal(first == 0, second == 0), "the mask must change between calls"


def test_dropout_is_identity_outside_training_and_zero_at_rate_one():
    np.testing.assert_array_equal(Dropout(0.5)(X, training=False), X)
    np.testing.assert_array_equal(Dropout(0.0)(X, training=True), X)
    np.testing.assert_array_equal(Dropout(1.0)(X, training=True), np.zeros_like(X))


@pytest.mark.parametrize("generator", GENERATORS)
def test_same_seed_same_masks_and_noise_shape_broadcasts(generator):
    a, b = Dropout(0.4, seed=7, generator=generator), Dropout(0.4, seed=7, generator=generator)
    np.testing.assert_array_equal(a(X, training=True), b(X, training=True))
    y = np.asarray(Dropout(0.4, noise_shape=(None, 1), seed=2, generator=generator)(X, training=True))
    assert np.all(y == y[:, :1]), "a (None, 1) noise shape drops whole rows"
    assert 0.2 < np.mean(y[:, 0] == 0) < 0.6


def test_mixed_precision_output_keeps_the_input_dtype():
    y = Dropout(0.5, seed=4, dtype="mixed_bfloat16")(X, training=True)
    assert y.dtype == tf.bfloat16
    _check_dropped(tf.cast(y, "float32"), 0.5)  # 2.0 is exact in bfloat16


def test_unknown_generator_is_rejected_with_the_choices():
    with pytest.raises(ValueError, match=r"one of \('hash', 'philox'\); received generator='xorshift'"):
        Dropout(0.1, generator="xorshift")


def _uniform(seed, shape=(1000, 1000)):
    return hash_random_bits(tf.constant(shape), tf.constant(seed)).numpy().astype("float64") / 2**32


def test_hash_bits_are_uniform_and_uncorrelated():
    u = _uniform([5, 0])
    counts = np.histogram(u, bins=64, range=(0, 1))[0]
    expected = u.size / 64
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 120, f"chi² {chi2:.1f} over 63 degrees of freedom: bits not uniform"  # p ≈ 3e-5
    assert abs(u.mean() - 0.5) < 1e-3 and abs(u.var() - 1 / 12) < 1e-3
    flat = u.ravel()
    for lag in (1, 2, 1000):   # neighbours in a row, and the element below
        r = np.corrcoef(flat[:-lag], flat[lag:])[0, 1]
        assert abs(r) < 5e-3, f"correlation {r:.4f} at lag {lag}"
    # consecutive seeds (what one layer's seed generator hands out call after call)
    r = np.corrcoef(flat, _uniform([5, 1]).ravel())[0, 1]
    assert abs(r) < 5e-3, f"correlation {r:.4f} between consecutive seeds"
    both = np.mean((u < 0.1) & (_uniform([5, 1]) < 0.1))
    assert abs(both - 0.01) < 1e-3, f"two masks of rate 0.1 overlap on {both:.4f}, not ~0.01"


def test_hash_bits_are_the_same_eager_and_under_xla():
    shape, seed = tf.constant([3, 7, 11]), tf.constant([123, 9])
    compiled = tf.function(hash_random_bits, jit_compile=True)
    np.testing.assert_array_equal(hash_random_bits(shape, seed), compiled(shape, seed))
