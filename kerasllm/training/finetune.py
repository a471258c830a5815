"""``kerasllm finetune``: a BertClassifier on labelled single texts or text pairs.

``--init RUN_DIR`` reuses that run's encoder (a pretraining run's
``model.encoder``, an import-hf encoder run as is) and its vocabulary;
``--init none`` builds a fresh encoder from ``--preset`` with the vocabulary
from ``--vocab`` or learned from the training texts.
"""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.training.finetune_setup import finetune_encoder, finetune_fit, finetune_start, \
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
    from kerasllm.data.length_batching import lengths_of, sorted_dataset

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
    # Batches of similar length, each cut to its longest row (to one of a few
    # widths under XLA, one compiled program per width): short texts never pay
    # for --seq-length padding.
    x = encode_texts(train, tokenizer, seq_length)
    batches, data_steps, widths = length_batches(x, encode_labels(train, labels), options,
                                                 global_batch)
    if data_steps == 0:
        raise KerasLLMError(f"--train {options['train']}: {len(train)} rows, fewer than one "
                            f"batch of {global_batch}; lower --batch-size.")
    eval_data = None
    if evaluation is not None:
        eval_data = sorted_dataset((encode_texts(evaluation, tokenizer, seq_length),
                                    encode_labels(evaluation, labels)), global_batch, widths)
    mean_length = float(lengths_of(x).mean())  # tokens/s counts real tokens, not padding
    fit_args = finetune_fit(options, batches, data_steps, eval_data, global_batch * mean_length)
    preset_name = None if from_run else options["preset"]
    config = job_config("finetune", "classify", "bert", preset_name,
                        dataclasses.asdict(model_config), wordpiece_settings(tokenizer),
                        seq_length, options, text_pair=pairs)

    def build():
        from kerasllm.models import BertClassifier

        encoder = finetune_encoder(options, from_run, len(tokens))
        model = BertClassifier(encoder, num_classes=len(labels), dropout=options["dropout"])
        return (model, *fit_args())

    return JobSpec(config=config, vocab=tokens, build=build, labels=labels)


def finetune(**options):
    """Run ``kerasllm finetune`` with the CLI's options; returns the metrics.

    ``precision`` / ``jit`` left None take the machine's fastest setting
    (``kerasllm.training.fast_defaults``), said in one line at start-up.
    """
    return run_finetune(prepare, options)
