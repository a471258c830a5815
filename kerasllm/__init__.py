"""kerasllm: BERT-style and LSTM language models for TensorFlow / Keras 3.

Importing the top-level package is cheap (no TensorFlow import) so the CLI
starts fast; import ``kerasllm.layers``, ``kerasllm.models`` or
``kerasllm.data`` for the real thing.
"""
import os

# Keras 3 picks its backend at import time; kerasllm is TensorFlow-only.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Keep TensorFlow's C++ start-up chatter (CUDA probing, CPU flags) out of CLI output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasllm.version import __version__  # noqa: E402

__all__ = ["__version__"]
