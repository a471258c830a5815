"""Read and write the tensors of a Hugging Face checkpoint as numpy arrays.

``model.safetensors`` (or a sharded ``model.safetensors.index.json``) is read
with the safetensors numpy API, so PyTorch is not needed; bfloat16 files,
which numpy cannot represent, are widened to float32 on the way in. A legacy
``pytorch_model.bin`` is read only when torch happens to be installed.
Names are normalised to one spelling: no ``bert.`` prefix and
``weight`` / ``bias`` instead of the old TF-era ``gamma`` / ``beta``.
"""
import json
import os
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


_NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}


def _load_bfloat16_safetensors(path):
    """Read a safetensors file holding bfloat16 tensors (numpy has no bfloat16) as float32.

    The format is an 8-byte header length, a JSON header of name -> dtype /
    shape / byte offsets, then the raw little-endian data. bfloat16 is the top
    half of a float32, so shifting its 16 bits left gives the exact float32.
    """
    data = Path(path).read_bytes()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    body = memoryview(data)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(body[begin:end], "<u2").astype("<u4") << 16
            value = bits.view("<f4")
        elif info["dtype"] in _NUMPY_DTYPES:
            value = np.frombuffer(body[begin:end], _NUMPY_DTYPES[info["dtype"]])
        else:
            raise DataError(f"{path}: tensor {name!r} has dtype {info['dtype']}, which "
                            f"cannot be imported; save the checkpoint in float32.")
        tensors[name] = value.reshape(info["shape"])
    return tensors


def _load_safetensors(path):
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except TypeError:  # "data type 'bfloat16' not understood"
        return _load_bfloat16_safetensors(path)
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
    path = Path(directory) / SAFETENSORS
    save_file(arrays, str(path), metadata={"format": "pt", "source": f"kerasllm {architecture}"})
    # safetensors writes through a private (0600) temporary file; give the checkpoint the
    # same permissions as every other file written here (0666 less the umask, often 0644).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
