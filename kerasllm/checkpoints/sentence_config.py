"""How a sentence-transformers checkpoint turns token vectors into one sentence vector.

A sentence-transformers directory (e.g. all-MiniLM-L6-v2) stores, beside the
Hugging Face files, ``modules.json`` (Transformer -> Pooling -> Normalize),
``1_Pooling/config.json`` (mean or [CLS] pooling) and
``sentence_bert_config.json`` (``max_seq_length``, where texts are cut).
``import-hf`` keeps these as the run's ``pooling`` / ``normalize`` /
``seq_length`` so ``kerasllm embed`` reproduces the reference embedding. A plain
Hugging Face checkpoint has none of them: mean pooling, no normalisation.
"""
import json
from pathlib import Path

from kerasllm.checkpoints.hf_config import read_json
from kerasllm.errors import DataError, location

POOLINGS = ("mean", "cls")
MODULES_FILE = "modules.json"
SENTENCE_BERT_CONFIG = "sentence_bert_config.json"
POOLING_KEYS = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
UNSUPPORTED_POOLING = ("pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                       "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")


def _modules(root):
    path = root / MODULES_FILE
    if not path.is_file():
        return []
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataError(f"{path}: invalid JSON ({err}); fix or delete the file.") from None
    if not isinstance(modules, list):
        raise DataError(f"{path}: expected a JSON list of modules, received "
                        f"{type(modules).__name__}.")
    return [m for m in modules if isinstance(m, dict)]


def _pooling(root, modules):
    pooling_dirs = [m.get("path", "") for m in modules if str(m.get("type", "")).endswith(
        ".Pooling")] or ["1_Pooling"]
    path = root / pooling_dirs[0] / "config.json"
    if not path.is_file():
        return None
    options = read_json(path)
    chosen = [mode for key, mode in POOLING_KEYS.items() if options.get(key)]
    other = [key for key in UNSUPPORTED_POOLING if options.get(key)]
    if other or len(chosen) != 1:
        raise DataError(f"{location(path, key=(other or list(POOLING_KEYS))[0])}: kerasllm "
                        f"pools with exactly one of {', '.join(POOLING_KEYS)}; received "
                        f"{', '.join(other + [k for k in POOLING_KEYS if options.get(k)]) or 'none'}.")
    return chosen[0]


def read_sentence_options(checkpoint_dir):
    """``{"pooling", "normalize", "max_seq_length"}`` of a checkpoint directory.

    Returns:
        pooling: "mean" or "cls" (mean when the directory has no Pooling module);
        normalize: True when ``modules.json`` lists a Normalize module;
        max_seq_length: int from ``sentence_bert_config.json`` or None.
    """
    root = Path(checkpoint_dir)
    modules = _modules(root)
    normalize = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
    max_seq_length = None
    if (root / SENTENCE_BERT_CONFIG).is_file():
        path = root / SENTENCE_BERT_CONFIG
        max_seq_length = read_json(path).get("max_seq_length")
        if max_seq_length is not None and (not isinstance(max_seq_length, int)
                                           or max_seq_length < 8):
            raise DataError(f"{location(path, key='max_seq_length')}: expected an integer "
                            f">= 8, received {max_seq_length!r}.")
    return {"pooling": _pooling(root, modules) or "mean", "normalize": normalize,
            "max_seq_length": max_seq_length}
