"""An index directory: documents, their unit embeddings, and the encoder that made them.

Layout::

    INDEX_DIR/index.json          run_dir (absolute), pooling, dimension, document count
    INDEX_DIR/shards/00000.npy    float32 (n, H) L2-normalised embeddings of a chunk
    INDEX_DIR/shards/00000.jsonl  the chunk's documents: {"id", "text"}, same order

Documents are embedded and written one chunk at a time, each shard pair through
a temporary name and a rename, so an interrupted ``kerasllm index`` keeps every
finished chunk; running it again skips documents already in the index (by id
and text) and embeds only new ones.
"""
import json
import os
from pathlib import Path

import numpy as np

from kerasllm.errors import DataError

INDEX_FILE = "index.json"
SHARDS = "shards"


def _atomic_write(path, write):
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        write(handle)
    os.replace(tmp, path)


def is_index(path):
    """True when ``path`` is an INDEX_DIR (holds ``index.json``)."""
    return (Path(path) / INDEX_FILE).is_file()


def read_index_info(path):
    """The parsed ``index.json`` of INDEX_DIR; a missing one is a one-line ``DataError``."""
    path = Path(path)
    if not is_index(path):
        raise DataError(f"{path}: not a kerasllm index (no {INDEX_FILE}); build one with "
                        f"`kerasllm index RUN_DIR --corpus FILES --output {path}`.")
    try:
        return json.loads((path / INDEX_FILE).read_text(encoding="utf-8"))
    except ValueError as err:
        raise DataError(f"{path / INDEX_FILE}: invalid JSON ({err}); rebuild the index with "
                        f"`kerasllm index` into a new --output.") from None


class SemanticIndex:
    """A loaded index: ``ids`` (N,), ``texts`` (N,), ``embeddings`` float32 (N, H) unit rows.

    Args:
        path: INDEX_DIR.
        info: the parsed ``index.json``.
        ids, texts: lists of str.
        embeddings: float32 (N, H).
    """

    def __init__(self, path, info, ids, texts, embeddings):
        self.path, self.info = Path(path), info
        self.ids, self.texts, self.embeddings = ids, texts, embeddings

    def __len__(self):
        return len(self.ids)

    @classmethod
    def load(cls, path):
        """Read INDEX_DIR; a missing or foreign directory is a one-line ``DataError``."""
        path = Path(path)
        info = read_index_info(path)
        ids, texts, parts = [], [], []
        for shard in sorted((path / SHARDS).glob("*.npy")):
            rows = [json.loads(line) for line in
                    shard.with_suffix(".jsonl").read_text(encoding="utf-8").splitlines()]
            ids += [row["id"] for row in rows]
            texts += [row["text"] for row in rows]
            parts.append(np.load(shard))
        dim = int(info["dimension"])
        embeddings = np.concatenate(parts) if parts else np.zeros((0, dim), "float32")
        return cls(path, info, ids, texts, embeddings.astype("float32", copy=False))

    def add_chunk(self, ids, texts, embeddings):
        """Append one chunk as the next shard (written atomically)."""
        shards = self.path / SHARDS
        shards.mkdir(parents=True, exist_ok=True)
        stem = shards / f"{len(list(shards.glob('*.npy'))):05d}"
        lines = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                        for i, t in zip(ids, texts))
        _atomic_write(stem.with_suffix(".jsonl"), lambda f: f.write(lines.encode("utf-8")))
        _atomic_write(stem.with_suffix(".npy"), lambda f: np.save(f, embeddings))  # last: commits
        self.ids += list(ids)
        self.texts += list(texts)
        self.embeddings = np.concatenate([self.embeddings, embeddings])


def _open_or_create(output, run, pooling):
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise DataError(f"--output {output}: exists and is a file; pass a directory.")
    if output.is_dir() and any(output.iterdir()):
        index = SemanticIndex.load(output)
        expected = {"run_dir": str(Path(run.path).resolve()), "pooling": pooling}
        found = {key: index.info.get(key) for key in expected}
        if found != expected:
            raise DataError(f"{output / INDEX_FILE}: built with {found}, now asked for "
                            f"{expected}; mixing encoders breaks similarity - use a new --output.")
        return index
    output.mkdir(parents=True, exist_ok=True)
    info = {"run_dir": str(Path(run.path).resolve()), "pooling": pooling,
            "dimension": int(run.config["model"]["hidden_dim"]),
            "seq_length": int(run.config["seq_length"])}
    _atomic_write(output / INDEX_FILE, lambda f: f.write(json.dumps(info, indent=2).encode()))
    return SemanticIndex(output, info, [], [], np.zeros((0, info["dimension"]), "float32"))


def build_index(run, documents, output, chunk_size=256, batch_size=32, progress=None):
    """Embed ``documents`` into INDEX_DIR ``output``, skipping those already there.

    Args:
        run: a loaded BERT ``Run`` (a sentence encoder).
        documents: list of ``(id, text)`` pairs.
        output: INDEX_DIR (created, or resumed when it already holds this run's index).
        chunk_size: documents per shard: the most an interruption can lose.
        batch_size: texts per forward pass.
        progress: optional ``(done, total) -> None``, called after every chunk.

    Returns:
        ``(index, added)``: the ``SemanticIndex`` and how many documents were new.
    """
    from kerasllm.inference import embed

    pooling = run.config.get("pooling", "mean")
    index = _open_or_create(output, run, pooling)
    seen = set(zip(index.ids, index.texts))
    new = [(i, t) for i, t in dict.fromkeys(documents) if (i, t) not in seen]
    for start in range(0, len(new), chunk_size):
        chunk = new[start:start + chunk_size]
        vectors = embed(run, [t for _, t in chunk], batch_size=batch_size, pooling=pooling,
                        normalize=True).astype("float32")  # (n, H) unit rows
        index.add_chunk([i for i, _ in chunk], [t for _, t in chunk], vectors)
        if progress:
            progress(min(start + chunk_size, len(new)), len(new))
    return index, len(new)
