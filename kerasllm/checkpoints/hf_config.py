"""Hugging Face BERT ``config.json`` / ``tokenizer_config.json`` <-> kerasllm configs.

The HF file is the source of truth for the architecture: sizes, activation,
LayerNorm epsilon, segment vocabulary and position table size all come from
it, so an imported model computes exactly what transformers computes.
"""
import dataclasses
import json
import re
from pathlib import Path

from kerasllm.config import to_dataclass
from kerasllm.errors import ConfigError, DataError, location
from kerasllm.presets import BertConfig

# HF hidden_act -> BertConfig.activation. gelu_new / gelu_pytorch_tanh are the
# tanh approximation (keras gelu(approximate=True)); plain gelu is the erf form.
HF_TO_ACTIVATION = {
    "gelu": "gelu",
    "gelu_python": "gelu",
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "relu": "relu",
}
ACTIVATION_TO_HF = {"gelu": "gelu", "gelu_approximate": "gelu_new", "relu": "relu"}


# BertConfig field -> the config.json key it is read from (for error messages).
HF_KEYS = {
    "vocabulary_size": "vocab_size", "num_layers": "num_hidden_layers",
    "num_heads": "num_attention_heads", "hidden_dim": "hidden_size",
    "intermediate_dim": "intermediate_size", "max_sequence_length": "max_position_embeddings",
    "num_segments": "type_vocab_size", "dropout": "hidden_dropout_prob",
    "layer_norm_epsilon": "layer_norm_eps",
}
_HF_NAME = re.compile(r"\b(" + "|".join(HF_KEYS) + r")\b")


def read_json(path):
    """Parse a JSON object file; a bad file names itself and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found; a Hugging Face BERT checkpoint "
                        f"directory needs config.json, vocab.txt and model.safetensors.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{location(path, err.lineno)}: invalid JSON ({err.msg}).") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, received {type(data).__name__}.")
    return data


def _get(hf, key, path, default=None):
    value = hf.get(key, default)
    if value is None:
        raise DataError(f"{location(path, key=key)}: missing; every BERT config.json "
                        f"must set it.")
    return value


def bert_config_from_hf(hf, path):
    """Map a parsed ``config.json`` onto a validated ``BertConfig``."""
    model_type = hf.get("model_type", "bert")
    if model_type != "bert":
        raise DataError(f"{location(path, key='model_type')}: received {model_type!r}; "
                        f"only BERT checkpoints (model_type 'bert') can be imported.")
    position_type = hf.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise DataError(f"{location(path, key='position_embedding_type')}: received "
                        f"{position_type!r}; only 'absolute' position embeddings are supported.")
    act = _get(hf, "hidden_act", path, "gelu")
    if act not in HF_TO_ACTIVATION:
        raise DataError(f"{location(path, key='hidden_act')}: received {act!r}; supported: "
                        f"{', '.join(sorted(HF_TO_ACTIVATION))}.")
    fields = {
        "vocabulary_size": _get(hf, "vocab_size", path),
        "num_layers": _get(hf, "num_hidden_layers", path),
        "num_heads": _get(hf, "num_attention_heads", path),
        "hidden_dim": _get(hf, "hidden_size", path),
        "intermediate_dim": _get(hf, "intermediate_size", path),
        "max_sequence_length": _get(hf, "max_position_embeddings", path, 512),
        "num_segments": _get(hf, "type_vocab_size", path, 2),
        "dropout": _get(hf, "hidden_dropout_prob", path, 0.1),
        "activation": HF_TO_ACTIVATION[act],
        "layer_norm_epsilon": _get(hf, "layer_norm_eps", path, 1e-12),
    }
    try:
        return to_dataclass(BertConfig, fields, path, "")
    except ConfigError as err:  # name config.json's keys, not BertConfig's
        raise DataError(_HF_NAME.sub(lambda m: HF_KEYS[m.group(0)], str(err))) from None


def labels_from_hf(hf, path):
    """Class names in id order from ``id2label`` (``LABEL_i`` when absent)."""
    id2label = hf.get("id2label")
    num = hf.get("num_labels") or (len(id2label) if id2label else 2)
    if not id2label:
        return [f"LABEL_{i}" for i in range(num)]
    try:
        by_id = {int(k): str(v) for k, v in id2label.items()}
    except (TypeError, ValueError, AttributeError):
        raise DataError(f"{location(path, key='id2label')}: expected a mapping of integer "
                        f"ids to names, received {id2label!r}.") from None
    if sorted(by_id) != list(range(len(by_id))):
        raise DataError(f"{location(path, key='id2label')}: ids must be 0..N-1, received "
                        f"{sorted(by_id)}.")
    return [by_id[i] for i in range(len(by_id))]


def hf_config_from_bert(config, architecture, labels=None):
    """``config.json`` contents for a ``BertConfig`` (dataclass or dict)."""
    cfg = config if isinstance(config, dict) else dataclasses.asdict(config)
    hf = {
        "architectures": [architecture],
        "model_type": "bert",
        "vocab_size": cfg["vocabulary_size"],
        "hidden_size": cfg["hidden_dim"],
        "num_hidden_layers": cfg["num_layers"],
        "num_attention_heads": cfg["num_heads"],
        "intermediate_size": cfg["intermediate_dim"],
        "hidden_act": ACTIVATION_TO_HF[cfg["activation"]],
        "hidden_dropout_prob": cfg["dropout"],
        "attention_probs_dropout_prob": cfg["dropout"],
        "max_position_embeddings": cfg["max_sequence_length"],
        "type_vocab_size": cfg["num_segments"],
        "layer_norm_eps": cfg["layer_norm_epsilon"],
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "tie_word_embeddings": True,
        "dtype": "float32",
    }
    if labels:
        hf["id2label"] = {str(i): name for i, name in enumerate(labels)}
        hf["label2id"] = {name: i for i, name in enumerate(labels)}
    return hf
