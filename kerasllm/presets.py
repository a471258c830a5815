"""Model presets: the YAML files in ``configs/`` as typed, validated configs.

A preset file looks like::

    family: bert            # or lstm
    description: BERT-Mini (4 layers, hidden 256)
    model:                  # fields of BertConfig / LSTMConfig; others default
      num_layers: 4
      hidden_dim: 256
    training:               # optional, fields of the family's training recipe
      batch_size: 20

``load_preset("bert_mini")`` finds the installed file; a path to any YAML
file works too. ``overrides`` replace model fields and are validated alike.
"""
import dataclasses
import importlib.resources
from pathlib import Path
from typing import ClassVar, Optional

from kerasllm.config import read_yaml, require, to_dataclass
from kerasllm.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class BertConfig:
    vocabulary_size: int = 30522
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    intermediate_dim: Optional[int] = None  # None → 4 × hidden_dim
    max_sequence_length: int = 512
    num_segments: int = 2
    dropout: float = 0.1
    activation: str = "gelu"
    layer_norm_epsilon: float = 1e-12

    def __post_init__(self):
        if self.intermediate_dim is None:
            object.__setattr__(self, "intermediate_dim", 4 * self.hidden_dim)

    def validate(self, source, prefix=""):
        for name in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim",
                     "intermediate_dim", "max_sequence_length", "num_segments"):
            require(getattr(self, name) > 0, source, prefix + name,
                    f"must be a positive integer, received {getattr(self, name)}.")
        require(self.hidden_dim % self.num_heads == 0, source, prefix + "hidden_dim",
                f"hidden_dim {self.hidden_dim} is not divisible by num_heads "
                f"{self.num_heads}; choose sizes where hidden_dim % num_heads == 0.")
        require(0.0 <= self.dropout < 1.0, source, prefix + "dropout",
                f"must be in [0, 1), received {self.dropout}.")
        require(self.activation in ("gelu", "gelu_approximate", "relu"), source,
                prefix + "activation",
                f"must be gelu, gelu_approximate or relu, received {self.activation!r}.")
        require(self.layer_norm_epsilon > 0, source, prefix + "layer_norm_epsilon",
                f"must be positive, received {self.layer_norm_epsilon}.")


@dataclasses.dataclass(frozen=True)
class LSTMConfig:
    vocabulary_size: int = 10000
    embedding_dim: int = 200
    units: int = 200
    num_layers: int = 2
    dropout: float = 0.0
    tie_weights: bool = False
    init_scale: float = 0.1  # uniform(-init_scale, init_scale) init (Zaremba et al.)

    def validate(self, source, prefix=""):
        for name in ("vocabulary_size", "embedding_dim", "units", "num_layers"):
            require(getattr(self, name) > 0, source, prefix + name,
                    f"must be a positive integer, received {getattr(self, name)}.")
        require(0.0 <= self.dropout < 1.0, source, prefix + "dropout",
                f"must be in [0, 1), received {self.dropout}.")
        require(self.init_scale > 0, source, prefix + "init_scale",
                f"must be positive, received {self.init_scale}.")
        require(not self.tie_weights or self.embedding_dim == self.units, source,
                prefix + "tie_weights",
                f"tied weights need embedding_dim == units, received "
                f"{self.embedding_dim} and {self.units}.")


@dataclasses.dataclass(frozen=True)
class LSTMRecipe:
    """Zaremba et al. (2014) style training recipe carried by LSTM presets."""
    RENAMED: ClassVar[dict] = {"sequence_length": "seq_length"}  # old YAML keys, still read

    batch_size: int = 20
    seq_length: int = 20           # truncated-BPTT window
    optimizer: str = "sgd"
    learning_rate: float = 1.0
    lr_decay: float = 0.5          # multiply lr by this each epoch after decay_start_epoch
    decay_start_epoch: int = 4     # epochs trained at the full learning rate
    epochs: int = 13
    clipnorm: float = 5.0
    # sum_over_time: the paper's objective (CE summed over the BPTT window,
    # averaged over the batch) that lr 1 / clip 5 are stated for; token_mean:
    # Keras' per-token mean (T times smaller gradients). See training/lm_loss.py.
    loss: str = "sum_over_time"

    def validate(self, source, prefix=""):
        require(self.loss in ("sum_over_time", "token_mean"), source, prefix + "loss",
                f"must be sum_over_time or token_mean, received {self.loss!r}.")
        for name in ("batch_size", "seq_length", "epochs"):
            require(getattr(self, name) > 0, source, prefix + name,
                    f"must be a positive integer, received {getattr(self, name)}.")
        require(self.optimizer in ("sgd", "adam"), source, prefix + "optimizer",
                f"must be sgd or adam, received {self.optimizer!r}.")
        for name in ("learning_rate", "lr_decay", "clipnorm"):
            require(getattr(self, name) > 0, source, prefix + name,
                    f"must be positive, received {getattr(self, name)}.")


@dataclasses.dataclass(frozen=True)
class BertRecipe:
    """Default pretraining hyper-parameters for a BERT preset."""
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_steps: int = 100
    weight_decay: float = 0.01
    clipnorm: float = 1.0

    def validate(self, source, prefix=""):
        require(self.batch_size > 0, source, prefix + "batch_size",
                f"must be a positive integer, received {self.batch_size}.")
        require(self.warmup_steps >= 0, source, prefix + "warmup_steps",
                f"must be >= 0, received {self.warmup_steps}.")
        for name in ("learning_rate", "clipnorm"):
            require(getattr(self, name) > 0, source, prefix + name,
                    f"must be positive, received {getattr(self, name)}.")
        require(self.weight_decay >= 0, source, prefix + "weight_decay",
                f"must be >= 0, received {self.weight_decay}.")


FAMILIES = {"bert": (BertConfig, BertRecipe), "lstm": (LSTMConfig, LSTMRecipe)}


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    family: str
    description: str
    model: object      # BertConfig | LSTMConfig
    training: object   # BertRecipe | LSTMRecipe
    path: str


def _preset_dir():
    return importlib.resources.files("kerasllm.configs")


def list_presets():
    """Names of the shipped presets, sorted."""
    return sorted(p.name[:-5] for p in _preset_dir().iterdir() if p.name.endswith(".yaml"))


def _resolve(name_or_path):
    path = Path(str(name_or_path))
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return path
    candidate = _preset_dir() / f"{name_or_path}.yaml"
    if not candidate.is_file():
        raise ConfigError(
            f"Unknown preset {name_or_path!r}; available presets: "
            f"{', '.join(list_presets())} (or pass a path to a YAML file)."
        )
    return Path(str(candidate))


def load_preset(name_or_path, **overrides):
    """Load and validate a preset; ``overrides`` replace ``model`` fields."""
    path = _resolve(name_or_path)
    data = read_yaml(path)
    allowed = {"family", "description", "model", "training"}
    for key in data:
        require(key in allowed, path, key,
                f"unknown key; expected one of: {', '.join(sorted(allowed))}.")
    family = data.get("family")
    require(family in FAMILIES, path, "family",
            f"must be one of {', '.join(FAMILIES)}, received {family!r}.")
    model_cls, recipe_cls = FAMILIES[family]
    model = to_dataclass(model_cls, data.get("model") or {}, path, "model.")
    if overrides:
        merged = {**dataclasses.asdict(model), **overrides}
        if "hidden_dim" in overrides and "intermediate_dim" not in overrides \
                and model_cls is BertConfig:
            merged["intermediate_dim"] = None  # keep the 4 × hidden rule
        model = to_dataclass(model_cls, merged, f"{path} (overrides)", "model.")
    training = to_dataclass(recipe_cls, data.get("training") or {}, path, "training.")
    return Preset(
        name=path.stem, family=family, description=str(data.get("description", "")),
        model=model, training=training, path=str(path),
    )
