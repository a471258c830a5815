"""Read and write the tensors of a Hugging Face checkpoint as numpy arrays.

``model.safetensors`` (or a sharded ``model.safetensors.index.json``) is read
with the safetensors numpy API, so PyTorch is not needed. A legacy
``pytorch_model.bin`` is read only when torch happens to be installed.
Names are normalised to one spelling: no ``bert.`` prefix and
``weight`` / ``bias`` instead of the old TF-era ``gamma`` / ``beta``.
"""
from pathlib import Path

import numpy as np

from kerasllm.checkpoints.hf_config import read_json
from kerasllm.errors import DataError

SAFETENSORS = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
TORCH_BIN = "pytorch_model.bin"


def normalise_name(name):
    """``bert.encoder...LayerNorm.gamma`` -> ``encoder...LayerNorm.weight``."""
    if name.startswith("bert."):
        name = name[len("bert."):]
    if name.endswith(".gamma"):
        name = name[: -len("gamma")] + "weight"
    elif name.endswith(".beta"):
        name = name[: -len("beta")] + "bias"
    return name


def _load_safetensors(path):
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise DataError(f"{path}: cannot read safetensors file ({err}); re-save the "
                        f"checkpoint with save_pretrained.") from None


def _load_torch_bin(path):
    try:
        import torch
    except ImportError:
        raise DataError(f"{path}: only a PyTorch checkpoint was found and torch is not "
                        f"installed; install torch, or convert it to model.safetensors.") from None
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt pickles
        raise DataError(f"{path}: cannot read PyTorch checkpoint ({err}).") from None
    return {k: v.detach().float().numpy() if v.is_floating_point() else v.numpy()
            for k, v in state.items()}


def read_hf_weights(checkpoint_dir):
    """All tensors of a checkpoint, ``{normalised name: np.ndarray}``."""
    root = Path(checkpoint_dir)
    if (root / SAFETENSORS).is_file():
        raw = _load_safetensors(root / SAFETENSORS)
    elif (root / SAFETENSORS_INDEX).is_file():
        index = read_json(root / SAFETENSORS_INDEX)
        raw = {}
        for shard in sorted(set(index.get("weight_map", {}).values())):
            raw.update(_load_safetensors(root / shard))
    elif (root / TORCH_BIN).is_file():
        raw = _load_torch_bin(root / TORCH_BIN)
    else:
        raise DataError(f"{root}: no {SAFETENSORS}, {SAFETENSORS_INDEX} or {TORCH_BIN} "
                        f"found; pass a directory written by save_pretrained.")
    weights = {}
    for name, value in raw.items():
        key = normalise_name(name)
        if key in weights:
            raise DataError(f"{root}: tensor {name!r} appears twice (with and without "
                            f"the 'bert.' prefix); the checkpoint is ambiguous.")
        weights[key] = np.asarray(value)
    return weights


def write_hf_weights(tensors, directory, architecture):
    """Write ``{full HF name: array}`` as ``model.safetensors`` (float32, contiguous)."""
    from safetensors.numpy import save_file

    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    save_file(arrays, str(Path(directory) / SAFETENSORS),
              metadata={"format": "pt", "source": f"kerasllm {architecture}"})
