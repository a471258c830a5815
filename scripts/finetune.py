#!/usr/bin/env python
"""Script entry point for `kerasllm finetune` (same click command, same code)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import kerasllm  # noqa: E402,F401  (sets KERAS_BACKEND before TensorFlow loads)
from kerasllm.cli.train_cmds import finetune  # noqa: E402

if __name__ == "__main__":
    finetune(prog_name="finetune.py")
