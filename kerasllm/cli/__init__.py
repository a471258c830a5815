"""The ``kerasllm`` command line (click)."""
