"""What the fine-tuning jobs (classify, ner) share: where the encoder and vocabulary come
from (--init RUN_DIR or --init none), and the optimizer / schedule / TrainPlan."""
from kerasllm.errors import KerasLLMError
from kerasllm.training import optimizers
from kerasllm.training.job import schedule_length
from kerasllm.training.models_setup import bert_encoder, bert_preset, learn_or_load_wordpiece, resumed_vocab


def finetune_start(options, texts):
    """``(tokenizer, tokens, BertConfig, from_run)`` of a fine-tuning job: --init RUN_DIR's
    vocabulary and sizes, or (--init none) --preset with --vocab or a vocabulary learned
    from ``texts``. The --init run's model is loaded later, in scope (``finetune_encoder``)."""
    from kerasllm import runs
    from kerasllm.presets import BertConfig

    seq_length = options["seq_length"]
    if str(options["init"]).lower() == "none":
        tokenizer, tokens = learn_or_load_wordpiece(resumed_vocab(options), texts,
                                                    options["vocab_size"], "--train")
        return tokenizer, tokens, bert_preset(options["preset"], len(tokens), seq_length).model, False
    config = runs.read_config(options["init"])
    if config.get("family") != "bert":
        raise KerasLLMError(f"--init {options['init']}: a {config.get('family')} run; "
                            f"fine-tuning needs a BERT run (pretrain or import-hf).")
    tokenizer = runs.load_tokenizer_for(options["init"], config)
    model_config = BertConfig(**config["model"])
    if model_config.max_sequence_length < seq_length:
        raise KerasLLMError(
            f"--seq-length {seq_length} exceeds the --init run's "
            f"max_sequence_length {model_config.max_sequence_length}.")
    return tokenizer, list(tokenizer.vocabulary), model_config, True


def finetune_encoder(options, from_run, vocabulary_size):
    """The encoder to fine-tune (call in the strategy scope): --init RUN_DIR's (a task
    model's ``.encoder``, an encoder run as is) or a fresh one from --preset."""
    from kerasllm import runs
    from kerasllm.models import BertEncoder

    if not from_run:
        return bert_encoder(bert_preset(options["preset"], vocabulary_size, options["seq_length"]))
    model = runs.load_model(options["init"])
    return model if isinstance(model, BertEncoder) else model.encoder


def finetune_fit(options, batches, data_steps, eval_data, tokens_per_step):
    """``fit_args``: call it in the strategy scope for ``({"optimizer": AdamW}, TrainPlan)``.

    3 epochs by default; AdamW with BERT's linear warmup over 10 % of the steps
    (or --warmup-steps) and decay; --early-stopping on the eval loss.
    """
    steps_per_epoch, epochs = schedule_length(options, data_steps, default_epochs=3)
    total = steps_per_epoch * epochs
    warmup = options.get("warmup_steps")
    warmup = int(0.1 * total) if warmup is None else warmup

    def fit_args():
        from kerasllm.training.trainer import TrainPlan

        optimizer = optimizers.adamw(options["learning_rate"], warmup, total,
                                     options["weight_decay"], options["clipnorm"])
        plan = TrainPlan(batches=batches, steps_per_epoch=steps_per_epoch, epochs=epochs,
                         eval_data=eval_data, tokens_per_step=tokens_per_step,
                         patience=options.get("early_stopping") or 0)
        return {"optimizer": optimizer}, plan

    return fit_args


def length_batches(x, y, options, global_batch):
    """``(batches, data_steps, widths)``: training batches of similar length, each cut to its
    longest row (to one of a few widths under XLA); per-token targets are cut with them."""
    from kerasllm.data.length_batching import bucket_widths
    from kerasllm.training import inputs

    widths = bucket_widths(options["seq_length"]) if options["jit"] else None
    batches, steps = inputs.length_grouped_batches(x, y, global_batch, options["seed"], widths)
    return batches, steps, widths


def run_finetune(prepare, options):
    """``run_job`` after filling an unset ``precision`` / ``jit`` with the machine's fastest
    (``kerasllm.training.fast_defaults``), said in one line at start-up."""
    import click

    from kerasllm.training import fast_defaults
    from kerasllm.training.job import run_job

    said = fast_defaults.choose(options)
    if said:
        click.echo(said)
    return run_job(prepare, options)
