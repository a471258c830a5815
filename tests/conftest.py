"""Shared pytest set-up: quiet TensorFlow, deterministic seeds, float32 policy per test."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts from seed 1337 and the float32 policy, whatever the last one did."""
    keras.utils.set_random_seed(1337)
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
