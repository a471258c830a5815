"""Entity-level precision / recall / F1 as CoNLL's conlleval computes them, plus token accuracy.

An entity counts as found only when a predicted span has the gold span's type
and both of its boundaries (``kerasllm.data.tag_schemes.entity_spans`` gives
the spans by conlleval's rules). Precision = found / predicted entities,
recall = found / gold entities, F1 their harmonic mean (0 when either is 0);
micro over all entities and per type. Token accuracy counts every word,
``O`` included, as conlleval's "accuracy" does.
"""
import collections

from kerasllm.data.tag_schemes import entity_spans


def _prf(found, predicted, gold):
    precision = found / predicted if predicted else 0.0
    recall = found / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_scores(gold_tags, predicted_tags):
    """Scores over sentences: ``gold_tags`` / ``predicted_tags`` are lists of tag lists.

    Returns a dict: ``precision``, ``recall``, ``f1``, ``token_accuracy``,
    ``entities`` (gold count), ``per_type`` {type: {precision, recall, f1, entities}}.
    """
    counts = collections.defaultdict(lambda: [0, 0, 0])  # type -> [found, predicted, gold]
    right = total = 0
    for gold, predicted in zip(gold_tags, predicted_tags):
        if len(gold) != len(predicted):
            raise ValueError(f"a sentence has {len(gold)} gold tags but {len(predicted)} "
                             f"predicted ones")
        gold_spans, predicted_spans = set(entity_spans(gold)), set(entity_spans(predicted))
        for kind, *_ in gold_spans:
            counts[kind][2] += 1
        for span in predicted_spans:
            counts[span[0]][1] += 1
            counts[span[0]][0] += span in gold_spans
        right += sum(g == p for g, p in zip(gold, predicted))
        total += len(gold)
    found, predicted, gold = (sum(c[i] for c in counts.values()) for i in range(3))
    precision, recall, f1 = _prf(found, predicted, gold)
    per_type = {}
    for kind in sorted(counts):
        p, r, f = _prf(*counts[kind])
        per_type[kind] = {"precision": p, "recall": r, "f1": f, "entities": counts[kind][2]}
    return {"precision": precision, "recall": recall, "f1": f1,
            "token_accuracy": right / total if total else 0.0, "entities": gold,
            "per_type": per_type}
