"""kerasllm's Philox Dropout: keras' Dropout semantics, eager and under XLA."""
import numpy as np
import pytest
import tensorflow as tf

from kerasllm.layers import Dropout
from tests.layer_test_helpers import run_layer_checks

X = np.ones((200, 500), "float32")


def _check_dropped(y, rate):
    y = np.asarray(y)
    dropped = np.mean(y == 0)
    assert abs(dropped - rate) < 0.01, f"dropped {dropped:.4f} of the entries, rate {rate}"
    np.testing.assert_allclose(y[y != 0], 1.0 / (1.0 - rate), rtol=1e-6)


def test_dropout_layer_checks():
    run_layer_checks(Dropout, {"rate": 0.3, "seed": 3}, input_data=X[:4, :8],
                     expected_output_shape=(4, 8), run_training=False)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_dropout_drops_the_rate_and_rescales_eager_and_under_xla(rate):
    layer = Dropout(rate, seed=1)
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


def test_same_seed_same_masks_and_noise_shape_broadcasts():
    a, b = Dropout(0.4, seed=7), Dropout(0.4, seed=7)
    np.testing.assert_array_equal(a(X, training=True), b(X, training=True))
    y = np.asarray(Dropout(0.4, noise_shape=(None, 1), seed=2)(X, training=True))
    assert np.all(y == y[:, :1]), "a (None, 1) noise shape drops whole rows"
    assert 0.2 < np.mean(y[:, 0] == 0) < 0.6
