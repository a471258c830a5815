"""Export a BERT RUN_DIR as a Hugging Face checkpoint that transformers loads.

Writes ``config.json``, ``model.safetensors``, ``vocab.txt`` and
``tokenizer_config.json``. The transformers class follows the run's task
(its ``hf_architecture`` in ``kerasllm.tasks``); a sentence-order run has no
transformers head and is exported as the task its ``hf_export_as`` names (sop:
its encoder, ``BertModel``; mlm+sop: its masked-LM half, ``BertForMaskedLM``).
"""
import json
from pathlib import Path

from kerasllm import tasks
from kerasllm.checkpoints.hf_config import hf_config_from_bert
from kerasllm.checkpoints.hf_tokenizer import write_tokenizer_files
from kerasllm.checkpoints.hf_weights import write_hf_weights
from kerasllm.checkpoints.weight_map import weight_entries
from kerasllm.errors import KerasLLMError

ENCODER_PREFIXES = ("embeddings.", "encoder.", "pooler.")


def hf_tensors(model, task, architecture):
    """``{transformers state-dict name: np.ndarray}`` for a task model."""
    tensors = {}
    pooler = tasks.get(task).hf_pooler
    for entry in weight_entries(model, task):
        name = entry.hf_name
        if not pooler and name.startswith("pooler."):
            continue  # e.g. BertForMaskedLM has none; transformers would flag it unexpected
        if architecture != "BertModel" and name.startswith(ENCODER_PREFIXES):
            name = "bert." + name
        tensors[name] = entry.read()
    return tensors


def export_checkpoint(run_dir, output_dir):
    """Write ``output_dir`` from ``run_dir``; returns the transformers class name."""
    from kerasllm.runs import VOCAB_FILE, load_run, read_config

    config = read_config(run_dir)
    if config.get("family") != "bert":
        raise KerasLLMError(f"{run_dir}: export-hf needs a BERT run, received family "
                            f"{config.get('family')!r}; LSTM runs have no transformers "
                            f"equivalent (use `kerasllm export` for TF Serving).")
    run = load_run(run_dir)
    task = config["task"]
    model = run.model
    exported_as = tasks.get(task).hf_export_as
    if exported_as:
        task = exported_as
        model = model.encoder if task == "encoder" else model
    spec = tasks.get(task)
    if not spec.hf_architecture:
        raise KerasLLMError(f"{run_dir}: task {task!r} cannot be exported; supported: "
                            f"{', '.join(tasks.with_field('hf_architecture'))}.")
    architecture = spec.hf_architecture
    if getattr(model, "pooling", "cls") != "cls":
        raise KerasLLMError(
            f"{run_dir}: this classifier reads the mean of its token vectors (--classifier-pooling "
            f"{model.pooling}) and transformers' {architecture} reads [CLS] through the pooler, "
            f"so it would give other answers; fine-tune with --classifier-pooling cls to export it.")
    labels = run.labels if spec.labelled else None
    tensors = hf_tensors(model, task, architecture)

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    hf_config = hf_config_from_bert(config["model"], architecture, labels)
    (out / "config.json").write_text(json.dumps(hf_config, indent=2) + "\n", encoding="utf-8")
    write_hf_weights(tensors, out, architecture)
    tokens = (Path(run_dir) / VOCAB_FILE).read_text(encoding="utf-8").splitlines()
    write_tokenizer_files(out, tokens, config.get("tokenizer") or {},
                          max_length=config["model"]["max_sequence_length"])
    return architecture
