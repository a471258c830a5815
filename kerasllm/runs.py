"""Run directories: what a training job leaves behind, and how to load it back.

Layout (written by the training jobs and ``import-hf``, read by evaluate /
predict / export)::

    RUN_DIR/config.yaml    resolved config (job, task, family, preset, model,
                           tokenizer, seq_length, text_pair, + job options)
    RUN_DIR/vocab.txt      one token per line (line i = id i)
    RUN_DIR/labels.txt     classifiers only (line i = name of class i)
    RUN_DIR/model.keras    the final task model
    RUN_DIR/checkpoints/   RUN_DIR/logs/   RUN_DIR/metrics.json

Every file is written to a temporary name in the same directory and then
renamed, so a crash mid-write never leaves a half-written artifact behind.
"""
import dataclasses
import json
import os
from pathlib import Path

import yaml

from kerasllm.errors import KerasLLMError

CONFIG_FILE = "config.yaml"
VOCAB_FILE = "vocab.txt"
LABELS_FILE = "labels.txt"
MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.jsonl"  # one line per epoch: {"epoch", "step", metrics...}
REQUIRED_CONFIG_KEYS = ("job", "task", "family", "model", "tokenizer", "seq_length")


@dataclasses.dataclass
class Run:
    """A loaded run directory."""
    path: Path
    config: dict
    model: object          # keras.Model
    tokenizer: object      # WordPieceTokenizer | WordTokenizer
    labels: list = None    # class names for classifiers, else None


def _atomic_write_text(path, text):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_config(run_dir, config):
    """Write ``config`` as RUN_DIR/config.yaml (atomically, keys in order)."""
    text = yaml.safe_dump(_plain(config), sort_keys=False, default_flow_style=False)
    _atomic_write_text(Path(run_dir) / CONFIG_FILE, text)


def write_lines(path, lines):
    """Write one item per line (vocab.txt, labels.txt) atomically."""
    _atomic_write_text(path, "".join(f"{line}\n" for line in lines))


def write_metrics(run_dir, metrics):
    """Write RUN_DIR/metrics.json atomically."""
    _atomic_write_text(Path(run_dir) / METRICS_FILE,
                       json.dumps(_plain(metrics), indent=2, sort_keys=True) + "\n")


def save_model(run_dir, model):
    """Save ``model`` as RUN_DIR/model.keras via a temporary file + rename."""
    path = Path(run_dir) / MODEL_FILE
    tmp = path.with_name(".model.tmp.keras")  # Keras insists on the .keras suffix
    model.save(str(tmp))
    os.replace(tmp, path)


def _plain(value):
    """Turn numpy scalars, tuples, Paths and dataclasses into YAML/JSON-safe values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


def _vocab_lines(vocab):
    if vocab is None:
        return None
    if hasattr(vocab, "vocabulary"):
        vocab = vocab.vocabulary
        vocab = vocab() if callable(vocab) else vocab
    return [str(token) for token in vocab]


def save_run(run_dir, config, model, vocab, labels=None):
    """Write a complete run directory.

    Args:
        run_dir: directory to write (created if missing).
        config: resolved config mapping (must hold the keys of
            ``REQUIRED_CONFIG_KEYS``).
        model: the Keras task model, saved as ``model.keras``.
        vocab: a tokenizer (anything with ``.vocabulary``) or a list of tokens.
        labels: class names for classifiers, else None.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    missing = [k for k in REQUIRED_CONFIG_KEYS if k not in config]
    if missing:
        raise KerasLLMError(
            f"save_run({run_dir}): config lacks required keys {missing}; "
            f"include {', '.join(REQUIRED_CONFIG_KEYS)}.")
    write_config(run_dir, config)
    lines = _vocab_lines(vocab)
    if lines is not None:
        write_lines(run_dir / VOCAB_FILE, lines)
    if labels is not None:
        write_lines(run_dir / LABELS_FILE, labels)
    if model is not None:
        save_model(run_dir, model)


def read_config(run_dir):
    """Read RUN_DIR/config.yaml, with one-line errors for a missing/bad run."""
    from kerasllm.config import read_yaml

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise KerasLLMError(
            f"{run_dir}: run directory not found; pass the --output directory of a "
            f"finished pretrain / finetune / train-lm / import-hf run.")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise KerasLLMError(
            f"{run_dir}: not a run directory (no {CONFIG_FILE}); pass the --output "
            f"directory of a finished training or import-hf run.")
    config = read_yaml(path)
    missing = [k for k in REQUIRED_CONFIG_KEYS if k not in config]
    if missing:
        raise KerasLLMError(
            f"{path}: missing key(s) {', '.join(missing)}; the run is incomplete or "
            f"was written by another tool - re-run the job that made it.")
    return config


def check_output_job(output, job):
    """Refuse ``--output`` holding a run of another job (e.g. finetune onto a pretrain run).

    Runs without TensorFlow, so the CLI calls it before the import as well as
    the training job before it compares configs.
    """
    path = Path(output)
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        return
    from kerasllm.config import read_yaml

    old = read_yaml(config_path).get("job")
    if old and old != job:
        raise KerasLLMError(
            f"--output {path}: this folder holds a {old} run, and {job} would replace it; "
            f"choose another --output (or pass --overwrite to delete the {old} run).")


def read_labels(run_dir):
    path = Path(run_dir) / LABELS_FILE
    if not path.is_file():
        return None
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def load_model(run_dir):
    """Load RUN_DIR/model.keras (registered kerasllm classes, no custom_objects)."""
    import keras

    import kerasllm.models  # noqa: F401  (registers the serializable classes)

    path = Path(run_dir) / MODEL_FILE
    if not path.is_file():
        raise KerasLLMError(
            f"{run_dir}: no {MODEL_FILE}; the run did not finish - re-run the same "
            f"training command to resume it.")
    # compile=False: a trained model.keras carries its optimizer, whose schedule
    # (kerasllm.training.optimizers) this module must not import; every user of a
    # loaded run (evaluate, predict, export, finetune --init) needs weights only.
    return keras.models.load_model(str(path), compile=False)


def load_tokenizer_for(run_dir, config):
    """The tokenizer a run was trained with, from RUN_DIR/vocab.txt."""
    from kerasllm.data import load_tokenizer

    run_dir = Path(run_dir)
    if not (run_dir / VOCAB_FILE).is_file():
        raise KerasLLMError(
            f"{run_dir}: no {VOCAB_FILE}; the run is incomplete - re-run the job "
            f"that made it.")
    tok = dict(config.get("tokenizer") or {})
    kind = tok.pop("type", "wordpiece")
    options = {k: tok[k] for k in ("lowercase", "strip_accents") if k in tok}
    return load_tokenizer(str(run_dir / VOCAB_FILE), kind=kind, **options)


def load_run(run_dir, model=True):
    """Load a run directory: config, model (unless ``model=False``), tokenizer, labels."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    return Run(
        path=run_dir,
        config=config,
        model=load_model(run_dir) if model else None,
        tokenizer=load_tokenizer_for(run_dir, config),
        labels=read_labels(run_dir),
    )
