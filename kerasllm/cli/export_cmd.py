"""``kerasllm export``: a run (or a search index) as a versioned SavedModel that stock
TF Serving loads."""
import os

import click

from kerasllm.cli import checks


@click.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--output", "output", required=True, type=click.Path(file_okay=False),
              help="MODEL_BASE: the model's directory (TF Serving's model_base_path); the "
                   "export goes to MODEL_BASE/<version>.")
@click.option("--version", "version", default=None, type=click.IntRange(min=0),
              help="Version number [default: one more than the newest in MODEL_BASE]. "
                   "An existing version is never overwritten.")
@click.option("--models-config", "models_config", default=None, type=click.Path(dir_okay=False),
              help="TF Serving model_config_list file to add / update this model in.")
@click.option("--seq-length", "seq_length", default=None, type=click.IntRange(min=4),
              help="Tokens per text in the raw-text signatures [default: the run's seq_length].")
@click.option("--max-seq-length", "old_seq_length", default=None, type=click.IntRange(min=4),
              hidden=True, help="The old name of --seq-length.")
@click.option("--name", "name", default=None,
              help="Model name in --models-config and the warmup requests "
                   "[default: MODEL_BASE's directory name].")
def export(run_dir, output, version, models_config, seq_length, old_seq_length, name):
    """Export RUN_DIR for TensorFlow Serving (raw-text signatures, core TF ops only).

    RUN_DIR may also be an INDEX_DIR written by `kerasllm index`: the SavedModel
    then has a raw-text search(query, top_k) signature returning ids, texts, scores.
    """
    from kerasllm.export.versioned_writer import choose_version
    from kerasllm.search.index_store import is_index, read_index_info

    seq_length = checks.renamed_option(seq_length, old_seq_length, "--seq-length", "--max-seq-length",
                                       None)
    checks.output_dir(output)
    choose_version(output, version)
    if is_index(run_dir):
        checks.run_config(read_index_info(run_dir)["run_dir"], "export of an index",
                          family="bert")
    else:
        checks.run_config(run_dir, "export")
    if models_config and os.path.exists(models_config):
        checks.text_file(models_config, "--models-config")
    from kerasllm.export.exporter import export_run

    path, version, name = export_run(run_dir, output, version=version,
                                     models_config=models_config,
                                     seq_length=seq_length, name=name,
                                     progress=lambda message: click.echo(f"export: {message}"))
    click.echo(f"Exported {run_dir} as model '{name}' version {version}: {path}")
    if models_config:
        click.echo(f"Updated {models_config} (model '{name}' -> {path.parent.resolve()})")
