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
# TensorFlow turns its oneDNN CPU kernels on by default only on CPUs with AVX-512 /
# AMX; elsewhere (AVX2-only Intel and AMD) it runs Eigen's. On a 2-core AMD EPYC
# oneDNN made BERT faster on every path measured (benchmarks, 2026-12-04):
# pretraining steps 12-17 %, MiniLM embeddings 1.3x (MatMul + BiasAdd + GELU fuse,
# attention's batched matmuls 3.5x); an LSTM step 3 % slower. Set
# TF_ENABLE_ONEDNN_OPTS=0 to keep Eigen. Applies when kerasllm is imported before
# TensorFlow (the CLI always is); TensorFlow reads it once, at its own import.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from kerasllm.version import __version__  # noqa: E402

__all__ = ["__version__"]
