"""``kerasllm finetune``: a BertClassifier on labelled single texts or text pairs.

``--init RUN_DIR`` reuses that run's encoder (a pretraining run's
``model.encoder``, an import-hf encoder run as is) and its vocabulary;
``--init none`` builds a fresh encoder from ``--preset`` with the vocabulary
from ``--vocab`` or learned from the training texts.
"""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.training.finetune_setup import finetune_encoder, finetune_fit, finetune_start, held_out, \
    length_batches, run_finetune
from kerasllm.training.job import JobSpec, job_config
from kerasllm.training.models_setup import wordpiece_settings


def _read(path, options, require_pairs):
    from kerasllm.data import read_classification_file

    return read_classification_file(
        path, text_column=options["text_column"], label_column=options["label_column"],
        pair_column=options.get("pair_column") if require_pairs else None)


def prepare(options, strategy):
    """Resolve the fine-tuning job (see ``kerasllm.training.job``)."""
    from kerasllm.data import encode_labels, label_vocabulary
    from kerasllm.data.classification import encode_texts

    pairs = bool(options.get("pair_column"))
    train = _read(options["train"], options, pairs)
    evaluation = _read(options["eval"], options, pairs) if options.get("eval") else None
    labels = label_vocabulary(train.labels)
    if len(labels) < 2:
        raise KerasLLMError(
            f"--train {options['train']}: every row has the label {labels[0]!r} in column "
            f"'{options['label_column']}'; a classifier needs at least two labels.")
    tokenizer, tokens, model_config, from_run = finetune_start(
        options, train.texts + (train.pairs or []))
    global_batch = options["batch_size"] * strategy.num_replicas_in_sync
    seq_length = options["seq_length"]
    x = encode_texts(train, tokenizer, seq_length)
    batches, data_steps, widths, tokens_per_step = length_batches(
        options, x, encode_labels(train, labels), global_batch)
    eval_data = None
    if evaluation is not None:
        eval_data = held_out(encode_texts(evaluation, tokenizer, seq_length),
                             encode_labels(evaluation, labels), global_batch, widths)
    fit_args = finetune_fit(options, batches, data_steps, eval_data, tokens_per_step)
    preset_name = None if from_run else options["preset"]
    config = job_config("finetune", "classify", "bert", preset_name,
                        dataclasses.asdict(model_config), wordpiece_settings(tokenizer),
                        seq_length, options, text_pair=pairs)

    def build():
        from kerasllm.models import BertClassifier

        encoder = finetune_encoder(options, from_run, len(tokens))
        model = BertClassifier(encoder, num_classes=len(labels), dropout=options["dropout"],
                               pooling=options["classifier_pooling"])
        return (model, *fit_args())

    return JobSpec(config=config, vocab=tokens, build=build, labels=labels)


def finetune(**options):
    """Run ``kerasllm finetune`` with the CLI's options; returns the metrics."""
    return run_finetune(prepare, options)
