"""Export runs as versioned TF Serving SavedModels whose raw-text signatures use core TF ops only.

``export_run(run_dir, model_base)`` is what ``kerasllm export`` calls; the tokenizer,
packer and signatures it builds live in the modules beside this one.
"""
from kerasllm.export.exporter import export_run  # noqa: F401
