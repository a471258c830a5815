"""``export_run``: a RUN_DIR -> a versioned TF Serving SavedModel under MODEL_BASE."""
from pathlib import Path

from kerasllm import tasks
from kerasllm.errors import KerasLLMError
from kerasllm.export.bert_signatures import BertServing
from kerasllm.export.models_config import read_models_config, update_models_config
from kerasllm.export.versioned_writer import choose_version, write_version

SUPPORTED_TASKS = tasks.with_field("serving")


def _seq_length(run, seq_length):
    config = run.config
    limit = int(config["model"].get("max_sequence_length", 512))
    length = int(seq_length or config["seq_length"])
    if not 4 <= length <= limit:
        raise KerasLLMError(f"--seq-length {length}: must be between 4 and the model's "
                            f"max_sequence_length {limit}.")
    return length


def build_serving(run, seq_length=None, top_k=5):
    """The ``tf.Module`` (with ``signatures()`` and ``warmup_inputs()``) exported for ``run``."""
    task = run.config.get("task")
    if task not in SUPPORTED_TASKS:
        raise KerasLLMError(f"{run.path}: config.yaml task {task!r} cannot be exported; "
                            f"export supports {', '.join(SUPPORTED_TASKS)}.")
    tokenizer = run.config.get("tokenizer") or {}
    vocabulary = list(run.tokenizer.vocabulary)
    if run.config["family"] == "lstm":
        from kerasllm.export.lstm_signatures import LSTMServing

        return LSTMServing(run.model, vocabulary, tokenizer.get("type", "word"),
                           lowercase=getattr(run.tokenizer, "lowercase", False),
                           strip_accents=tokenizer.get("strip_accents", True), top_k=top_k)
    return BertServing(run.model, task, vocabulary, _seq_length(run, seq_length),
                       lowercase=tokenizer.get("lowercase", True),
                       strip_accents=tokenizer.get("strip_accents", True), labels=run.labels,
                       text_pair=run.config.get("text_pair", False), top_k=top_k,
                       answer_options=_answer_options(run.config),
                       pooling=run.config.get("pooling", "mean"))


def _answer_options(config):
    """The qa signature's windows and null threshold: those the run was trained with."""
    if config.get("task") != "qa":
        return None
    return {"doc_stride": int(config.get("doc_stride", 128)),
            "max_query_length": int(config.get("max_query_length", 64)),
            "null_threshold": 0.0 if config.get("squad_v2") else None}


def build_serving_for(path, seq_length=None):
    """The module to export for a RUN_DIR, or for an INDEX_DIR (raw-text search)."""
    from kerasllm.runs import load_run
    from kerasllm.search.index_store import SemanticIndex, is_index

    if is_index(path):
        from kerasllm.export.search_signatures import SearchServing

        index = SemanticIndex.load(path)
        if len(index) == 0:
            raise KerasLLMError(f"{path}: the index holds no documents; add some with "
                                f"`kerasllm index` before exporting it.")
        run = load_run(index.info["run_dir"])
        return SearchServing(build_serving(run, seq_length), index)
    return build_serving(load_run(path), seq_length)


def export_run(run_dir, output, version=None, models_config=None, seq_length=None,
               name=None, progress=None):
    """Export ``run_dir`` as ``output/<version>``; returns ``(path, version, name)``.

    Args:
        run_dir: a finished run directory, or an INDEX_DIR of ``kerasllm index``
            (exported as a raw-text ``search(query, top_k)`` model).
        output: MODEL_BASE, the directory TF Serving's ``model_base_path`` points at.
        version: int or None (next integer after the existing versions).
        models_config: optional TF Serving model_config_list file to add / update.
        seq_length: tokens per text in the raw-text signatures (default: the run's).
        name: model name for the config file and warmup requests (default: MODEL_BASE's name).
        progress: optional ``str -> None`` told what the export is doing.
    """
    say = progress or (lambda message: None)
    output = Path(output)
    version = choose_version(output, version)  # fail fast, before loading the model
    if models_config:
        read_models_config(models_config)  # a broken file fails before a version exists
    name = name or output.resolve().name
    say(f"loading {run_dir}")
    serving = build_serving_for(run_dir, seq_length)
    say(f"tracing the raw-text signatures and writing {output / str(version)} "
        f"(a minute or two on a CPU)")
    path = write_version(serving, serving.signatures(), output, version, name,
                         serving.warmup_inputs())
    if models_config:
        update_models_config(models_config, name, output)
    return path, version, name
