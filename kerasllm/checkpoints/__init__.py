"""Hugging Face BERT checkpoints: import into a RUN_DIR, export a RUN_DIR back.

``import_checkpoint(checkpoint_dir, run_dir)`` and
``export_checkpoint(run_dir, output_dir)``; PyTorch is never required.
"""
from kerasllm.checkpoints.export_hf import export_checkpoint
from kerasllm.checkpoints.import_hf import import_checkpoint

__all__ = ["export_checkpoint", "import_checkpoint"]
