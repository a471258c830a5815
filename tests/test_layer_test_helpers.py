"""The shared layer checks must catch the bugs they exist for."""
import keras
import numpy as np
import pytest

from tests.layer_test_helpers import (check_mixed_precision, check_serialization,
                                      check_xla_training_step, run_layer_checks)

X = np.random.default_rng(1).standard_normal((2, 3, 4)).astype("float32")


@keras.saving.register_keras_serializable(package="kerasllm_tests")
class Scale(keras.layers.Layer):
    """y = x * w * factor (+ an unused weight when asked), a tiny test subject."""

    def __init__(self, factor=1.0, unused_weight=False, force_float32=False, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self.unused_weight = unused_weight
        self.force_float32 = force_float32

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        if self.unused_weight:
            self.unused = self.add_weight(shape=(1,), name="unused")

    def call(self, x):
        y = x * self.w * self.factor
        return keras.ops.cast(y, "float32") if self.force_float32 else y

    def get_config(self):
        return {**super().get_config(), "unused_weight": self.unused_weight,
                "force_float32": self.force_float32, "factor": self.factor}


@keras.saving.register_keras_serializable(package="kerasllm_tests")
class ForgetsFactor(Scale):
    def get_config(self):
        config = super().get_config()
        del config["factor"]
        return config


def test_a_correct_layer_passes_every_check():
    out = run_layer_checks(Scale, {"factor": 2.0}, X, expected_output_shape=(2, 3, 4))
    np.testing.assert_allclose(out, 2.0 * X)


def test_incomplete_get_config_is_caught():
    with pytest.raises(AssertionError):
        check_serialization(ForgetsFactor(factor=3.0), X)


def test_a_weight_training_does_not_move_is_caught():
    with pytest.raises(AssertionError, match="no gradient|unchanged"):
        check_xla_training_step(Scale, {"unused_weight": True}, X)
    check_xla_training_step(Scale, {"unused_weight": True}, X, frozen_weights=("unused",))


def test_wrong_mixed_precision_output_dtype_is_caught():
    with pytest.raises(AssertionError, match="output dtype float32"):
        check_mixed_precision(Scale, {"force_float32": True}, X)
    check_mixed_precision(Scale, {"force_float32": True}, X, output_dtype="float32")


def test_wrong_expected_shape_is_caught():
    with pytest.raises(AssertionError, match="shape"):
        run_layer_checks(Scale, {}, X, expected_output_shape=(2, 3, 5))


def test_unregistered_layers_are_caught():
    class Unregistered(Scale):
        pass

    with pytest.raises(TypeError, match="register_keras_serializable"):
        check_serialization(Unregistered(), X)
