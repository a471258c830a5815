"""``kerasllm evaluate | generate | fill-mask | predict``: use a finished run.

Thin click wrappers; the work happens in ``kerasllm.inference`` and
``kerasllm.evaluation`` so Python users call the same functions.
"""
import json

import click

RUN_DIR = click.argument("run_dir", type=click.Path(file_okay=False))


@click.command("evaluate")
@RUN_DIR
@click.option("--data", "data", multiple=True, required=True,
              help="Held-out data: corpus glob or --examples dir (pretrain), text file(s) "
                   "(lm), labelled CSV/JSONL (classify). Repeat for several.")
@click.option("--output", "output", type=click.Path(dir_okay=False), default=None,
              help="JSON file for the metrics [default: RUN_DIR/eval_metrics.json].")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1),
              help="Examples per batch; for an LM, windows per chunk of the one stream "
                   "(the LSTM state is carried over the whole text, so only speed changes).")
@click.option("--max-examples", default=None, type=click.IntRange(min=1),
              help="Evaluate at most this many examples / windows.")
@click.option("--seed", default=0, show_default=True, help="Seed for MLM masking / NSP pairs.")
def evaluate(run_dir, data, output, batch_size, max_examples, seed):
    """Evaluate RUN_DIR on held-out data; print `name: value` lines, write JSON."""
    from kerasllm.evaluation import evaluate_run

    metrics, path = evaluate_run(run_dir, list(data), output=output, batch_size=batch_size,
                                 max_examples=max_examples, seed=seed)
    for name, value in metrics.items():
        click.echo(f"{name}: {value:.4f}" if isinstance(value, float) else f"{name}: {value}")
    click.echo(f"Metrics written to {path}")


@click.command("generate")
@RUN_DIR
@click.option("--prompt", required=True, help="Text to continue.")
@click.option("--max-new-tokens", default=30, show_default=True, type=click.IntRange(min=1))
@click.option("--temperature", default=1.0, show_default=True,
              type=click.FloatRange(min=0.0, min_open=True))
@click.option("--top-k", default=None, type=click.IntRange(min=1), help="Sample from the k best.")
@click.option("--top-p", default=None, type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Nucleus sampling: smallest set with this much probability.")
@click.option("--seed", default=None, type=int, help="Seed for reproducible samples.")
def generate(run_dir, prompt, max_new_tokens, temperature, top_k, top_p, seed):
    """Continue PROMPT with an LSTM language-model RUN_DIR."""
    from kerasllm.inference import generate as generate_text
    from kerasllm.runs import load_run

    click.echo(generate_text(load_run(run_dir), prompt, max_new_tokens=max_new_tokens,
                             temperature=temperature, top_k=top_k, top_p=top_p, seed=seed))


@click.command("fill-mask")
@RUN_DIR
@click.argument("text")
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def fill_mask(run_dir, text, top_k, as_json):
    """Predict each [MASK] in TEXT with a masked-LM RUN_DIR."""
    from kerasllm.inference import fill_mask as fill
    from kerasllm.runs import load_run

    results = fill(load_run(run_dir), text, top_k=top_k)
    if as_json:
        click.echo(json.dumps([[{"token": t, "probability": p} for t, p in r]
                               for r in results], indent=2))
        return
    for i, candidates in enumerate(results):
        click.echo(f"[MASK] #{i + 1}:")
        for token, prob in candidates:
            click.echo(f"  {token:<20} {prob:.4f}")


@click.command("predict")
@RUN_DIR
@click.option("--text", "texts", multiple=True, required=True, help="A text; repeat for more.")
@click.option("--text-pair", "pairs", multiple=True,
              help="Second segment for pair classifiers; one per --text.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def predict(run_dir, texts, pairs, as_json):
    """Classify texts with a classifier RUN_DIR: label name and probabilities."""
    from kerasllm.inference import predict as classify
    from kerasllm.runs import load_run

    run = load_run(run_dir)
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
