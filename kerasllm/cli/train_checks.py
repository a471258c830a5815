"""What pretrain / finetune / train-lm check before importing TensorFlow.

Paths, globs, run kinds and option combinations: each mistake is one
``Error:`` line in well under a second. The jobs keep their own checks for
Python callers; these only come first.
"""
import os

import click

from kerasllm.cli import checks
from kerasllm.errors import KerasLLMError


def _output(options):
    checks.output_dir(options.output)
    if not options.overwrite:
        from kerasllm.runs import check_output_job

        check_output_job(options.output, options.JOB)


def _warmup(options):
    steps, warmup = options.steps, options.warmup_steps
    if steps and warmup and warmup > steps:
        click.echo(f"Warning: --warmup-steps {warmup} is more than --steps {steps}, so the "
                   f"learning rate never reaches its peak; lower --warmup-steps.", err=True)


def pretrain(options):
    """``options``: a validated PretrainOptions (exactly one of corpus / examples)."""
    corpus, examples = options.corpus, options.examples
    checks.vocab_file(options.vocab)
    if str(options.init or "none").lower() != "none":
        checks.run_config(options.init, "pretrain --init", family="bert",
                          need="a BERT run (pretrain or import-hf)")
    if options.eval:
        checks.corpus(options.eval, option="--eval")
    if corpus:
        checks.corpus(corpus)
    else:
        if not os.path.isdir(examples):
            raise KerasLLMError(f"--examples {examples}: not a directory; pass the --output "
                                f"directory of `kerasllm data pretrain`.")
        if not any(name.endswith(".tfrecord") for name in os.listdir(examples)):
            raise KerasLLMError(f"--examples {examples}: holds no .tfrecord shards; build them "
                                f"with `kerasllm data pretrain --output {examples}`.")
        from kerasllm.data.pretraining_summary import examples_settings

        if not options.vocab and examples_settings(examples)[0] is None:
            raise KerasLLMError(f"--examples {examples} records no vocab.txt; pass the --vocab "
                                f"the examples were built with.")
    checks.seq_length(options.seq_length, "--seq-length")
    _output(options)
    _warmup(options)


def finetune(options):
    checks.text_file(options.train, "--train")
    if options.eval:
        checks.text_file(options.eval, "--eval")
    if str(options.init).lower() != "none":
        checks.run_config(options.init, "finetune --init", family="bert",
                          need="a BERT run (pretrain or import-hf)")
    checks.vocab_file(options.vocab)
    checks.seq_length(options.seq_length, "--seq-length")
    _output(options)
    _warmup(options)


def train_lm(options):
    checks.corpus(options.corpus, "--corpus")
    if options.eval:
        checks.corpus(options.eval, "--eval")
    checks.vocab_file(options.vocab)
    _output(options)
