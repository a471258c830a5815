"""What ``kerasllm predict`` prints for each task (the task's ``formatter`` in kerasllm.tasks).

Each function takes the loaded run, the texts (and text pairs), and whether to
print JSON lines; the predictions come from the task's ``predictor``.
"""
import json

import click


def labels(run, texts, pairs, as_json):
    """Classifiers: the label and every class probability, one line per text."""
    from kerasllm.inference import predict as classify

    probs, predicted = classify(run, list(texts), list(pairs) if pairs else None)
    names = run.labels or [str(i) for i in range(probs.shape[-1])]
    for text, row, label in zip(texts, probs, predicted):
        if as_json:
            click.echo(json.dumps({"text": text, "label": label,
                                   "probabilities": dict(zip(names, map(float, row)))}))
        else:
            top = ", ".join(f"{n}={p:.4f}" for n, p in sorted(
                zip(names, row), key=lambda item: -item[1]))
            click.echo(f"{label}\t{top}\t{text}")


def entities(run, texts, pairs, as_json):
    """Taggers: per text, its entities (type, text, character offsets, score)."""
    from kerasllm.tagging import tag_entities

    for number, (text, found) in enumerate(zip(texts, tag_entities(run, list(texts)))):
        if as_json:
            click.echo(json.dumps({"text": text, "entities": found}, ensure_ascii=False))
            continue
        click.echo(("\n" if number else "") + text)
        if not found:
            click.echo("  (no entities)")
        for e in found:
            click.echo(f"  {e['type']:<8} {e['start']:>5}-{e['end']:<5} {e['score']:.4f}  {e['text']}")
