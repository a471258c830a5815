"""``kerasllm classify-zero-shot``: classify texts with a sentence encoder and no training.

Labels come from ``--labels`` (names, or ``name=description``, comma-separated),
repeated ``--label name=description`` (descriptions may hold commas) or from a few
labelled ``--examples`` per label (CSV / TSV / JSONL with text and label
columns); each text gets the label whose prototype is most similar.
``--evaluate FILE`` scores a labelled file instead: accuracy and macro-F1.
"""
import json

import click

from kerasllm.cli import checks
from kerasllm.cli.text_inputs import COLUMN, INPUT, gather_texts


def _prototype_texts(labels, label_items, examples, text_column, label_column):
    from kerasllm.data.classification import read_classification_file
    from kerasllm.zero_shot import examples_by_label, parse_label_spec, parse_labels

    if examples:
        data = read_classification_file(examples, text_column=text_column,
                                        label_column=label_column)
        return examples_by_label(data.texts, data.labels)
    if label_items:
        return parse_labels(label_items, option="--label")
    return parse_label_spec(labels)


@click.command("classify-zero-shot")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--labels", default=None,
              help='Comma-separated labels, each a name or name=description, e.g. '
                   '"sport=football tennis and athletics,business=companies and markets".')
@click.option("--label", "label_items", multiple=True,
              help='One label as name=description (the description may hold commas); '
                   'repeat for each label, e.g. --label "sport=football, tennis".')
@click.option("--examples", default=None, type=click.Path(dir_okay=False),
              help="Labelled CSV / TSV / JSONL: a few (or many) examples per label; each "
                   "label's prototype is the centroid of its examples' embeddings.")
@click.option("--text", "texts", multiple=True, help="A text to classify; repeat for more.")
@INPUT
@COLUMN
@click.option("--evaluate", "evaluate_file", default=None, type=click.Path(dir_okay=False),
              help="Labelled CSV / TSV / JSONL to score instead: prints accuracy and macro-F1.")
@click.option("--label-column", default="label", show_default=True,
              help="Label field of --examples / --evaluate.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def classify_zero_shot(run_dir, labels, label_items, examples, texts, input_file, column, evaluate_file,
                       label_column, batch_size, as_json):
    """Classify texts with BERT sentence encoder RUN_DIR by similarity to label prototypes."""
    checks.run_config(run_dir, "classify-zero-shot", family="bert",
                      need="a BERT sentence encoder run (e.g. kerasllm import-hf all-MiniLM-L6-v2)")
    if sum(map(bool, (labels, label_items, examples))) != 1:
        raise click.UsageError("Pass exactly one of --labels NAMES, --label NAME=TEXT "
                               "(repeated) or --examples FILE.")
    for path, option in ((examples, "--examples"), (evaluate_file, "--evaluate")):
        if path:
            checks.text_file(path, option)
    gold = None
    if evaluate_file:
        from kerasllm.data.classification import read_classification_file

        data = read_classification_file(evaluate_file, text_column=column,
                                        label_column=label_column)
        texts, gold = data.texts, data.labels
    else:
        texts = gather_texts(texts, input_file, column)
    from kerasllm.runs import load_run
    from kerasllm.zero_shot import classify_zero_shot as classify, label_prototypes

    run = load_run(run_dir)
    names, prototypes = label_prototypes(
        run, _prototype_texts(labels, label_items, examples, column, label_column), batch_size)
    scores, predicted = classify(run, list(texts), names, prototypes, batch_size)
    if gold is not None:
        from kerasllm.evaluation import accuracy, macro_f1

        click.echo(f"accuracy: {accuracy(gold, predicted):.4f}")
        click.echo(f"macro_f1: {macro_f1(gold, predicted):.4f}")
        click.echo(f"examples: {len(gold)}")
        return
    for text, row, label in zip(texts, scores, predicted):
        if as_json:
            click.echo(json.dumps({"text": text, "label": label,
                                   "scores": dict(zip(names, map(float, row)))}))
        else:
            top = ", ".join(f"{n}={s:.4f}" for n, s in sorted(zip(names, row),
                                                             key=lambda item: -item[1]))
            click.echo(f"{label}\t{top}\t{text}")
