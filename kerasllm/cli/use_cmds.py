"""``kerasllm evaluate | generate | fill-mask | predict``: use a finished run.

Thin click wrappers; the work happens in ``kerasllm.inference`` and
``kerasllm.evaluation`` so Python users call the same functions.
"""
import json
import os

import click

from kerasllm import tasks
from kerasllm.cli import checks
from kerasllm.cli.text_inputs import COLUMN, INPUT, gather_texts

RUN_DIR = click.argument("run_dir", type=click.Path(file_okay=False))


@click.command("evaluate")
@RUN_DIR
@click.option("--data", "data", multiple=True, required=True,
              help="Held-out data: corpus glob or --examples dir (pretrain), text file(s) "
                   "(lm), labelled CSV/JSONL (classify), CoNLL / JSONL tags (ner). Repeat for "
                   "several.")
@click.option("--output", "output", type=click.Path(dir_okay=False), default=None,
              help="JSON file for the metrics [default: RUN_DIR/eval_metrics.json].")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1),
              help="Examples per batch; for an LM, windows per chunk of the one stream "
                   "(the LSTM state is carried over the whole text, so only speed changes).")
@click.option("--max-examples", default=None, type=click.IntRange(min=1),
              help="Evaluate at most this many examples / windows.")
@click.option("--seed", default=0, show_default=True, help="Seed for MLM masking / NSP pairs.")
@click.option("--overwrite", is_flag=True,
              help="Replace an --output file that holds metrics on other data.")
def evaluate(run_dir, data, output, batch_size, max_examples, seed, overwrite):
    """Evaluate RUN_DIR on held-out data; print `name: value` lines, write JSON."""
    from kerasllm.evaluation import metrics_path

    config = checks.run_config(run_dir, "evaluate")
    metrics_path(run_dir, data, output, overwrite)
    if config.get("task") in tasks.with_field("reader"):  # labelled files, not a corpus
        for path in data:
            checks.text_file(path, "--data")
    elif not all(os.path.isdir(p) or str(p).endswith(".tfrecord") for p in data):
        checks.corpus(data, "--data")

    from kerasllm.evaluation import evaluate_run

    metrics, path = evaluate_run(run_dir, list(data), output=output, batch_size=batch_size,
                                 max_examples=max_examples, seed=seed, overwrite=overwrite)
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
    """Continue the --prompt text with an LSTM language-model RUN_DIR."""
    checks.run_config(run_dir, "generate", tasks=("lm",),
                      need="an LSTM language-model run (task lm)")
    prompt = gather_texts([prompt], what="--prompt")[0]
    from kerasllm.inference import generate as generate_text
    from kerasllm.runs import load_run

    click.echo(generate_text(load_run(run_dir), prompt, max_new_tokens=max_new_tokens,
                             temperature=temperature, top_k=top_k, top_p=top_p, seed=seed))


@click.command("fill-mask")
@RUN_DIR
@click.argument("text", required=False)
@INPUT
@COLUMN
@click.option("--top-k", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON instead of a table (a list per [MASK]; with several texts, "
                   "one such list per text).")
def fill_mask(run_dir, text, input_file, column, top_k, as_json):
    """Predict each [MASK] in TEXT (or in every text of --input) with a masked-LM RUN_DIR."""
    masked_lm = tasks.with_field("masked_lm")
    checks.run_config(run_dir, "fill-mask", tasks=masked_lm,
                      need=f"a masked-LM run (task {' or '.join(masked_lm)})")
    texts = gather_texts([text] if text is not None else [], input_file, column, what="TEXT")
    from kerasllm.inference import fill_mask as fill
    from kerasllm.runs import load_run

    run = load_run(run_dir)
    results = [fill(run, t, top_k=top_k) for t in texts]
    if as_json:
        rows = [[[{"token": t, "probability": p} for t, p in r] for r in result]
                for result in results]
        click.echo(json.dumps(rows[0] if len(texts) == 1 else rows, indent=2))
        return
    for number, (item, result) in enumerate(zip(texts, results)):
        if len(texts) > 1:
            click.echo(("\n" if number else "") + item)
        for i, candidates in enumerate(result):
            click.echo(f"[MASK] #{i + 1}:")
            for token, prob in candidates:
                click.echo(f"  {token:<20} {prob:.4f}")


@click.command("predict")
@RUN_DIR
@click.option("--text", "texts", multiple=True, help="A text; repeat for more.")
@INPUT
@COLUMN
@click.option("--text-pair", "pairs", multiple=True,
              help="Second segment for pair classifiers; one per --text.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of text.")
def predict(run_dir, texts, input_file, column, pairs, as_json):
    """Classify texts with a classifier RUN_DIR (label name and probabilities), or find
    entities with a tagging RUN_DIR (type, text, character offsets, score)."""
    config = checks.run_config(run_dir, "predict", tasks=tasks.with_field("formatter"),
                               need="a classifier run (task classify) or a tagging run (task ner)")
    texts = gather_texts(texts, input_file, column)
    pairs = gather_texts(pairs, what="--text-pair") if pairs else ()
    from kerasllm.runs import load_run

    tasks.get(config["task"]).resolve("formatter")(load_run(run_dir), texts, pairs, as_json)
