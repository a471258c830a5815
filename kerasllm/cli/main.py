"""``kerasllm`` click group.

Commands live in their own modules and are imported only when run, so
``kerasllm --help`` answers without importing TensorFlow. Every
``KerasLLMError`` becomes one ``Error: ...`` line and exit status 1.
"""
import importlib
import os
import sys

import click

from kerasllm.version import __version__

# name -> (module, attribute, one-line help shown by `kerasllm --help`)
COMMANDS = {
    "models": ("kerasllm.cli.models_cmd", "models", "List presets with their parameter counts."),
    "vocab": ("kerasllm.cli.vocab_cmd", "vocab", "Learn a WordPiece vocabulary from a corpus."),
    "data": ("kerasllm.cli.data_cmd", "data", "Build pretraining TFRecords from a corpus."),
    "pretrain": ("kerasllm.cli.train_cmds", "pretrain", "Pretrain a BERT (MLM, NSP, MLM+NSP, SOP, MLM+SOP)."),
    "finetune": ("kerasllm.cli.train_cmds", "finetune",
                 "Fine-tune a BERT classifier, entity tagger or question answerer."),
    "train-lm": ("kerasllm.cli.train_cmds", "train_lm", "Train an LSTM language model."),
    "launch": ("kerasllm.cli.launch_cmd", "launch", "Run a training job as N local worker processes."),
    "evaluate": ("kerasllm.cli.use_cmds", "evaluate", "Evaluate a run on held-out data."),
    "generate": ("kerasllm.cli.use_cmds", "generate", "Generate text with an LSTM LM run."),
    "fill-mask": ("kerasllm.cli.use_cmds", "fill_mask", "Predict [MASK] tokens with an MLM run."),
    "predict": ("kerasllm.cli.use_cmds", "predict",
                "Classify texts, or find their entities with a tagging run."),
    "answer": ("kerasllm.cli.answer_cmd", "answer", "Answer questions about a context with a qa run."),
    "embed": ("kerasllm.cli.hf_cmds", "embed", "Sentence embeddings (and cosine similarity)."),
    "classify-zero-shot": ("kerasllm.cli.zero_shot_cmd", "classify_zero_shot",
                           "Classify texts by similarity to label descriptions; no training."),
    "index": ("kerasllm.cli.search_cmds", "index", "Embed documents into a semantic-search index."),
    "search": ("kerasllm.cli.search_cmds", "search", "Search an index with a text query."),
    "export": ("kerasllm.cli.export_cmd", "export", "Export a run as a TF Serving SavedModel."),
    "import-hf": ("kerasllm.cli.hf_cmds", "import_hf", "Import a Hugging Face BERT checkpoint."),
    "export-hf": ("kerasllm.cli.hf_cmds", "export_hf", "Export a run as a Hugging Face checkpoint."),
    "demo": ("kerasllm.cli.demo_cmd", "demo", "Run the end-to-end demo on the bundled BBC News data."),
}


class LazyGroup(click.Group):
    """A click group that imports each command's module on first use."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        from kerasllm.errors import KerasLLMError

        try:
            return super().invoke(ctx)
        except KerasLLMError as err:
            raise click.ClickException(str(err)) from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kerasllm")
@click.option("--verbose", is_flag=True, envvar="KERASLLM_VERBOSE",
              help="Show TensorFlow's start-up and device log lines (hidden by default).")
def cli(verbose):
    """kerasllm: BERT-style and LSTM language models for TensorFlow / Keras 3.

    Train on your own text with model.fit, watch runs in TensorBoard, and
    export SavedModels that stock TensorFlow Serving loads.
    """
    if verbose:
        from kerasllm.cli.quiet_logs import FILTER

        FILTER.verbose = True
        if "tensorflow" not in sys.modules:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"


def main(argv=None):
    """Console-script entry point: the command group with TensorFlow's noise filtered."""
    from kerasllm.cli.quiet_logs import FILTER

    FILTER.start()
    try:
        return cli.main(args=argv, prog_name="kerasllm")
    finally:
        FILTER.stop()


if __name__ == "__main__":
    sys.exit(main())
