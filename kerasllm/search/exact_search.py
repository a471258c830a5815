"""Exact nearest neighbours by cosine similarity: one matrix product over the unit rows.

Exact search costs N x H multiply-adds per query (N = documents, H = 384 for
all-MiniLM-L6-v2): about 4e7 for 100k documents, a few milliseconds on a CPU,
and fine up to ~1M documents (1.5 GB of float32 embeddings). The TensorFlow
ecosystem's approximate library, ScaNN (what TensorFlow Recommenders' ScaNN
layer wraps), does not work here: its latest release (scann 1.4.2) is built
against TensorFlow 2.20 (``tensorflow~=2.20.0``), its op library fails to load
into TF 2.21 (undefined absl symbol), and ``import scann`` loads those ops
whenever TensorFlow is installed; its ops are not in stock TF Serving either,
so an exported index could not use it. Hence exact search, in core TF ops when
exported.
"""
import numpy as np

from kerasllm.errors import KerasLLMError


def exact_search(embeddings, queries, top_k=5):
    """Indices (Q, k) and scores (Q, k) of the ``top_k`` rows most similar to each query.

    Args:
        embeddings: float32 (N, H) unit rows.
        queries: float32 (Q, H) unit rows.
        top_k: int >= 1; at most N results are returned.
    """
    if top_k < 1:
        raise KerasLLMError(f"--top-k {top_k}: must be at least 1.")
    scores = queries @ embeddings.T  # (Q, N)
    k = min(int(top_k), scores.shape[1])
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # (Q, k), unordered
    order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
    best = np.take_along_axis(best, order, axis=1)  # (Q, k), best first
    return best, np.take_along_axis(scores, best, axis=1)


def search_texts(index, run, queries, top_k=5):
    """For each query text, a list of ``(id, text, score)``, best first."""
    from kerasllm.inference import embed

    if len(index) == 0:
        raise KerasLLMError(f"{index.path}: the index holds no documents; add some with "
                            f"`kerasllm index RUN_DIR --corpus FILES --output {index.path}`.")
    vectors = embed(run, list(queries), pooling=index.info["pooling"],
                    normalize=True).astype("float32")  # (Q, H)
    best, scores = exact_search(index.embeddings, vectors, top_k)
    return [[(index.ids[j], index.texts[j], float(s)) for j, s in zip(row, row_scores)]
            for row, row_scores in zip(best, scores)]
