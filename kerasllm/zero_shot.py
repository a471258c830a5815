"""Zero-shot text classification with a sentence encoder: no training, only similarity.

Each label gets a prototype: the mean unit embedding of its description(s) or
of a few example texts (the class centroid), renormalised. A text is assigned
the label whose prototype is most similar (cosine). With all-MiniLM-L6-v2 this
classifies BBC News topics from label descriptions alone, or better from the
training articles' centroids (nearest-centroid classification).
"""
import numpy as np

from kerasllm.errors import KerasLLMError
from kerasllm.inference import embed


def _unit(vectors):
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def parse_labels(items, option="--labels"):
    """``["business", "sport=football, tennis"]`` -> {name: [descriptions]}.

    A bare name is its own description; ``name=text`` gives a longer one (the
    text may hold commas); a name given twice collects several descriptions.
    """
    labels = {}
    for number, item in enumerate(items, start=1):
        name, _, description = str(item).partition("=")
        name, description = name.strip(), description.strip()
        if not name:
            raise KerasLLMError(f"{option}: item {number} ({item!r}) has no label name; write "
                                f"'name' or 'name=description'.")
        labels.setdefault(name, []).append(description or name)
    if len(labels) < 2:
        raise KerasLLMError(f"{option}: received {len(labels)} label(s); give at least two.")
    return labels


def parse_label_spec(spec):
    """``"business,sport=football and tennis results"`` -> {name: [description]}:
    comma-separated ``--labels`` (use ``--label`` for descriptions with commas)."""
    return parse_labels(str(spec).split(","), option=f"--labels {spec!r}")


def examples_by_label(texts, labels):
    """{label: [texts]} in first-seen label order, from parallel lists."""
    grouped = {}
    for text, label in zip(texts, labels):
        grouped.setdefault(label, []).append(text)
    return grouped


def label_prototypes(run, label_texts, batch_size=32):
    """Label names and their prototypes.

    Args:
        run: a loaded BERT ``Run`` (a sentence encoder such as all-MiniLM-L6-v2).
        label_texts: {label name: [descriptions or example texts]}.
        batch_size: texts per forward pass.

    Returns:
        ``(names, prototypes)``: list of C names, float32 (C, H) unit vectors.
    """
    names = list(label_texts)
    if len(names) < 2:
        raise KerasLLMError(f"Zero-shot classification needs at least two labels, received "
                            f"{names}.")
    texts = [t for name in names for t in label_texts[name]]
    vectors = _unit(embed(run, texts, batch_size=batch_size))  # (sum of counts, H)
    bounds = np.cumsum([0] + [len(label_texts[name]) for name in names])
    centroids = [vectors[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])]
    return names, _unit(np.stack(centroids)).astype("float32")  # (C, H)


def nearest_prototype(vectors, names, prototypes):
    """Cosine similarities (N, C) of embeddings (N, H) to the prototypes, and the best names."""
    scores = _unit(vectors) @ prototypes.T  # (N, C)
    return scores, [names[i] for i in scores.argmax(axis=-1)]


def classify_zero_shot(run, texts, names, prototypes, batch_size=32):
    """Cosine similarities (N, C) to each label prototype and the best label per text."""
    return nearest_prototype(embed(run, texts, batch_size=batch_size), names, prototypes)
