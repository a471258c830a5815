"""Export runs as versioned TF Serving SavedModels whose raw-text signatures use core TF ops only.

``export_run(run_dir, model_base)`` is what ``kerasllm export`` calls; the tokenizer,
packer and signatures it builds live in the modules beside this one.
"""


def __getattr__(name):  # lazy, so kerasllm.export.versioned_writer loads without TensorFlow
    if name == "export_run":
        from kerasllm.export.exporter import export_run

        return export_run
    raise AttributeError(f"module 'kerasllm.export' has no attribute {name!r}")
