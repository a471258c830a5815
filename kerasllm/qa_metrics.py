"""SQuAD's exact match and F1, with the official answer normalisation.

An answer is normalised by lower-casing, removing punctuation, removing the
articles "a", "an" and "the" and collapsing whitespace. Exact match is 1 when
the normalised prediction equals a normalised gold answer; F1 is the
token-overlap F1 of the normalised words. Each question scores its best gold
answer; an unanswerable question (SQuAD v2.0) has the gold answer "". Both
are reported in percent, as the official script does.
"""
import collections
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction, gold):
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((collections.Counter(predicted) & collections.Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions, golds):
    """``predictions``: answer strings; ``golds``: lists of gold answers ([] = unanswerable)."""
    em = [max(exact_match(p, g) for g in (gold or [""])) for p, gold in zip(predictions, golds)]
    f = [max(f1(p, g) for g in (gold or [""])) for p, gold in zip(predictions, golds)]
    n = max(len(em), 1)
    return {"exact_match": 100.0 * sum(em) / n, "f1": 100.0 * sum(f) / n, "questions": len(em)}
