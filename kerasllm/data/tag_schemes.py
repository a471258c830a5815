"""Entity spans from tag sequences by conlleval's chunk rules (BIO, IOB1 and BIOES alike).

A chunk ends before a tag when the previous tag was E or S, when B / I is
followed by B, S or O, or when the type changes; it starts at B or S, at I or
E after O, E or S, or at a change of type. So in IOB1 an ``I-`` after ``O``
starts an entity, and ``B-X B-X`` is two entities. These are the rules of
CoNLL's conlleval script, with its BIOES (``S``) extension as the usual
Python scorers apply it; ``tests/test_tagging_metrics.py`` checks them on
hand-worked cases.
"""


def _split(tag):
    if tag == "O" or "-" not in tag:
        return "O", ""
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def _ends(prev, prev_type, tag, kind):
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev != "O" and prev_type != kind


def _starts(prev, prev_type, tag, kind):
    if tag in ("B", "S"):
        return True
    if tag in ("I", "E") and prev in ("O", "E", "S"):
        return True
    return tag != "O" and prev_type != kind


def entity_spans(tags):
    """``[(type, start, end)]`` with ``end`` exclusive, over word positions of one sentence."""
    spans, start, prev, prev_type = [], None, "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = _split(tag)
        if start is not None and _ends(prev, prev_type, prefix, kind):
            spans.append((prev_type, start, i))
            start = None
        if _starts(prev, prev_type, prefix, kind):
            start = i
        prev, prev_type = prefix, kind
    return spans
