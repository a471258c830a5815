"""``kerasllm pretrain``: BERT pretraining (MLM, NSP, MLM+NSP, SOP, MLM+SOP) with model.fit.

Input is either a text corpus (``--corpus``: tokenized once, then pairs and
masks made fresh every epoch, in a seed-determined order) or pretraining
TFRecords from ``kerasllm data pretrain`` (``--examples DIR``, read in file
order so a resumed run sees the same batches).
"""
from kerasllm import tasks
from kerasllm.errors import KerasLLMError
from kerasllm.training import inputs, optimizers, pretrain_init
from kerasllm.training.job import JobSpec, job_config, run_job, schedule_length
from kerasllm.training.models_setup import bert_encoder, bert_preset, learn_or_load_wordpiece, resumed_vocab, \
    wordpiece_settings
from kerasllm.training.options import fill_from_recipe
from kerasllm.training.pretrain_options import DEFAULT_SEQ_LENGTH, PretrainOptions


def _corpus_stream(options, tokenizer, global_batch):
    from kerasllm.data import PretrainingConfig, TokenizedCorpus, VocabularyInfo, read_documents
    from kerasllm.data.streaming import PretrainingStream
    from kerasllm.errors import DataError

    documents = read_documents(options["corpus"])
    corpus = TokenizedCorpus.from_documents(documents, tokenizer)
    config = PretrainingConfig(
        seq_length=options["seq_length"], max_predictions=options["max_predictions"],
        masked_lm_prob=options["masked_lm_prob"], seed=options["seed"]).validate(as_flags=True)
    try:
        stream = PretrainingStream(corpus, VocabularyInfo.from_tokenizer(tokenizer), global_batch,
                                   options["task"], config)
    except DataError as err:
        raise KerasLLMError(f"--corpus {' '.join(options['corpus'])}: {err}") from None
    return stream.batches, stream.steps_per_pass


def _examples_stream(options, global_batch):
    from kerasllm.data import load_pretraining_dataset

    ds = load_pretraining_dataset(options["examples"], global_batch, task=options["task"],
                                  shuffle=False, drop_remainder=True)
    steps = inputs.count_batches(ds)
    if steps == 0:
        raise KerasLLMError(f"--examples {options['examples']}: fewer records than one batch of "
                            f"{global_batch}; lower --batch-size.")
    seq_length = int(next(iter(ds))[0]["token_ids"].shape[1])
    if seq_length != options["seq_length"]:
        raise KerasLLMError(
            f"--examples {options['examples']} holds sequences of length {seq_length}, but "
            f"--seq-length is {options['seq_length']}; pass --seq-length {seq_length}.")
    return inputs.dataset_batches(ds, steps)


def _held_out(options, tokenizer, task):
    """``logger -> [HeldOutEvaluation]`` for --eval: the held-out batches are drawn now, once."""
    from kerasllm.training.pretrain_eval import HeldOutEvaluation, held_out_batches

    batches = held_out_batches(options["eval"], tokenizer, task, options["batch_size"],
                               options["eval_examples"], options["seq_length"], options["seed"])
    every = options["eval_every"] or options["checkpoint_every"]
    return lambda logger: [HeldOutEvaluation(batches, task, every, logger)]


def prepare(options, strategy):
    """Resolve the pretraining job (see ``kerasllm.training.job``); ``options``: a validated
    ``PretrainOptions.job_options()``."""
    from kerasllm.data import read_documents

    task = options["task"]
    if options.get("examples"):
        from kerasllm.data.pretraining_summary import examples_settings

        vocab, seq_length = examples_settings(options["examples"])
        options["vocab"] = options.get("vocab") or vocab
        options["seq_length"] = options.get("seq_length") or seq_length or DEFAULT_SEQ_LENGTH
        if not options["vocab"]:
            raise KerasLLMError(f"--examples {options['examples']} records no vocab.txt; pass "
                                f"the --vocab the examples were built with.")
    options["seq_length"] = options.get("seq_length") or DEFAULT_SEQ_LENGTH
    continuing = pretrain_init.is_init(options)
    if continuing:  # the --init run's vocabulary and sizes; --preset gives the recipe only
        tokenizer, tokens, model_config, init_task = pretrain_init.init_start(options)
    else:
        texts = None if options.get("vocab") else \
            [line for doc in read_documents(options["corpus"]) for line in doc.lines]
        tokenizer, tokens = learn_or_load_wordpiece(resumed_vocab(options), texts,
                                                    options["vocab_size"], "--corpus")
    preset = bert_preset(options["preset"], len(tokens), options["seq_length"])
    model_config = model_config if continuing else preset.model
    recipe = preset.training
    fill_from_recipe(PretrainOptions, options, recipe)
    global_batch = options["batch_size"] * strategy.num_replicas_in_sync
    if options.get("examples"):
        batches, data_steps = _examples_stream(options, global_batch)
    else:
        batches, data_steps = _corpus_stream(options, tokenizer, global_batch)
    steps_per_epoch, epochs = schedule_length(options, data_steps, default_epochs=1)
    config = job_config("pretrain", task, "bert", None if continuing else options["preset"],
                        model_config, wordpiece_settings(tokenizer), options["seq_length"], options)

    held_out = _held_out(options, tokenizer, task) if options.get("eval") else None

    def build():
        import click

        from kerasllm.training.trainer import TrainPlan

        if continuing:
            model, said = pretrain_init.init_model(options, task, init_task)
            click.echo(said)
        else:
            model = tasks.build_model(task, bert_encoder(preset))
        if hasattr(model, "mlm_weight"):  # MLM+NSP / MLM+SOP; an --init pretrainer's is not kept
            model.mlm_weight = options.get("mlm_weight") or 1.0
            model.mlm_alone_steps = options.get("mlm_alone_steps") or 0
        optimizer = optimizers.adamw(options["learning_rate"], options["warmup_steps"],
                                     steps_per_epoch * epochs, recipe.weight_decay, recipe.clipnorm)
        plan = TrainPlan(batches=batches, steps_per_epoch=steps_per_epoch, epochs=epochs,
                         tokens_per_step=global_batch * options["seq_length"],
                         callbacks=held_out)
        return model, {"optimizer": optimizer}, plan

    return JobSpec(config=config, vocab=tokens, build=build)


def pretrain(**options):
    """The pretraining job on validated options (``kerasllm.training.pretrain`` checks them);
    returns the metrics."""
    return run_job(prepare, options)
