"""``kerasllm finetune``: a BertClassifier on labelled single texts or text pairs.

``--init RUN_DIR`` reuses that run's encoder (a pretraining run's
``model.encoder``, an import-hf encoder run as is) and its vocabulary;
``--init none`` builds a fresh encoder from ``--preset`` with the vocabulary
from ``--vocab`` or learned from the training texts.
"""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.training import fast_defaults, inputs, optimizers
from kerasllm.training.job import JobSpec, job_config, run_job, schedule_length
from kerasllm.training.models_setup import bert_encoder, bert_preset, learn_or_load_wordpiece, resumed_vocab, \
    wordpiece_settings


def _read(path, options, require_pairs):
    from kerasllm.data import read_classification_file

    return read_classification_file(
        path, text_column=options["text_column"], label_column=options["label_column"],
        pair_column=options.get("pair_column") if require_pairs else None)


def _initial_run(options):
    """``(config, tokenizer)`` of --init RUN_DIR; its model is loaded later, in scope."""
    from kerasllm import runs

    config = runs.read_config(options["init"])
    if config.get("family") != "bert":
        raise KerasLLMError(f"--init {options['init']}: a {config.get('family')} run; "
                            f"fine-tuning needs a BERT run (pretrain or import-hf).")
    return config, runs.load_tokenizer_for(options["init"], config)


def _encoder_of(model):
    from kerasllm.models import BertEncoder

    return model if isinstance(model, BertEncoder) else model.encoder


def prepare(options, strategy):
    """Resolve the fine-tuning job (see ``kerasllm.training.job``)."""
    from kerasllm.data import encode_labels, label_vocabulary
    from kerasllm.data.classification import encode_texts
    from kerasllm.data.length_batching import bucket_widths, lengths_of, sorted_dataset
    from kerasllm.presets import BertConfig

    pairs = bool(options.get("pair_column"))
    train = _read(options["train"], options, pairs)
    evaluation = _read(options["eval"], options, pairs) if options.get("eval") else None
    labels = label_vocabulary(train.labels)
    if len(labels) < 2:
        raise KerasLLMError(
            f"--train {options['train']}: every row has the label {labels[0]!r} in column "
            f"'{options['label_column']}'; a classifier needs at least two labels.")
    from_run = str(options["init"]).lower() != "none"
    if from_run:
        init_config, tokenizer = _initial_run(options)
        model_config = BertConfig(**init_config["model"])
        tokens = list(tokenizer.vocabulary)
        if model_config.max_sequence_length < options["seq_length"]:
            raise KerasLLMError(
                f"--seq-length {options['seq_length']} exceeds the --init run's "
                f"max_sequence_length {model_config.max_sequence_length}.")
    else:
        texts = train.texts + (train.pairs or [])
        tokenizer, tokens = learn_or_load_wordpiece(resumed_vocab(options), texts,
                                                    options["vocab_size"], "--train")
        model_config = bert_preset(options["preset"], len(tokens), options["seq_length"]).model
    global_batch = options["batch_size"] * strategy.num_replicas_in_sync
    seq_length = options["seq_length"]
    # Batches of similar length, each cut to its longest row (to one of a few
    # widths under XLA, one compiled program per width): short texts never pay
    # for --seq-length padding.
    widths = bucket_widths(seq_length) if options["jit"] else None
    x = encode_texts(train, tokenizer, seq_length)
    batches, data_steps = inputs.length_grouped_batches(x, encode_labels(train, labels),
                                                        global_batch, options["seed"], widths)
    if data_steps == 0:
        raise KerasLLMError(f"--train {options['train']}: {len(train)} rows, fewer than one "
                            f"batch of {global_batch}; lower --batch-size.")
    eval_data = None
    if evaluation is not None:
        eval_data = sorted_dataset((encode_texts(evaluation, tokenizer, seq_length),
                                    encode_labels(evaluation, labels)), global_batch, widths)
    mean_length = float(lengths_of(x).mean())  # tokens/s counts real tokens, not padding
    steps_per_epoch, epochs = schedule_length(options, data_steps, default_epochs=3)
    total = steps_per_epoch * epochs
    warmup = options.get("warmup_steps")
    warmup = int(0.1 * total) if warmup is None else warmup  # BERT: 10 % of fine-tuning steps
    preset_name = None if from_run else options["preset"]
    config = job_config("finetune", "classify", "bert", preset_name,
                        dataclasses.asdict(model_config), wordpiece_settings(tokenizer),
                        seq_length, options, text_pair=pairs)

    def build():
        from kerasllm import runs
        from kerasllm.models import BertClassifier
        from kerasllm.training.trainer import TrainPlan

        if from_run:
            encoder = _encoder_of(runs.load_model(options["init"]))
        else:
            encoder = bert_encoder(bert_preset(options["preset"], len(tokens), seq_length))
        model = BertClassifier(encoder, num_classes=len(labels), dropout=options["dropout"])
        optimizer = optimizers.adamw(options["learning_rate"], warmup, total,
                                     options["weight_decay"], options["clipnorm"])
        plan = TrainPlan(batches=batches, steps_per_epoch=steps_per_epoch, epochs=epochs,
                         eval_data=eval_data, tokens_per_step=global_batch * mean_length,
                         patience=options.get("early_stopping") or 0)
        return model, {"optimizer": optimizer}, plan

    return JobSpec(config=config, vocab=tokens, build=build, labels=labels)


def finetune(**options):
    """Run ``kerasllm finetune`` with the CLI's options; returns the metrics.

    ``precision`` / ``jit`` left None take the machine's fastest setting
    (``kerasllm.training.fast_defaults``), said in one line at start-up.
    """
    import click

    said = fast_defaults.choose(options)
    if said:
        click.echo(said)
    return run_job(prepare, options)
