"""``kerasllm train-lm``: an LSTM language model (Zaremba et al. 2014 recipes).

The lstm_* presets carry the whole recipe (batch 20, 20/35-step truncated
BPTT with the state carried across windows and reset each epoch, SGD lr 1
decayed per epoch, global-norm clip 5 / 10, uniform init), so ``--preset
lstm_small`` alone reproduces that setting; every recipe field can be
overridden by its flag. Perplexity on ``--eval`` is reported after every epoch.

The loss is the paper's objective, cross-entropy summed over the BPTT window
and averaged over the batch (``TimeSummedCrossentropy``, recipe key ``loss:
sum_over_time``): lr 1 and the clip norm are stated for that scale, and
Keras' per-token mean makes every step ``seq_length`` times smaller (the
cause of epoch-1 valid perplexity 465 instead of ~180). The logged ``loss``
stays nats per token, so ``perplexity = exp(loss)``.
"""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.training import fast_defaults, inputs, optimizers
from kerasllm.training.job import JobSpec, job_config, run_job, schedule_length
from kerasllm.training.lm_loss import lm_loss
from kerasllm.training.lm_options import TrainLMOptions
from kerasllm.training.options import fill_from_recipe


def _tokenizer(options, lines):
    """``(tokenizer, tokens)``: from --vocab, or learned from the corpus lines."""
    from kerasllm.data import learn_vocabulary, learn_word_vocabulary, load_tokenizer
    from kerasllm.data.vocab import write_temporary_vocabulary

    kind = options["tokenizer"]
    path = options.get("vocab")
    if not path:  # word or WordPiece, every worker learns the same vocabulary from the same corpus
        size = options["vocab_size"]
        tokens = learn_word_vocabulary(lines, size) if kind == "word" \
            else learn_vocabulary(lines, size)
        path = write_temporary_vocabulary(tokens)
    tokenizer = load_tokenizer(str(path), kind=kind)
    return tokenizer, list(tokenizer.vocabulary)


def _stream(tokenizer, patterns, seq_length, batch_size, stateful, seed, name):
    from kerasllm.data import corpus_token_stream, lm_dataset

    stream = corpus_token_stream(tokenizer, patterns)
    try:
        return lm_dataset(stream, seq_length, batch_size, stateful=stateful, shuffle=False,
                          seed=seed)
    except KerasLLMError as err:
        raise KerasLLMError(f"{name}: {err}") from None


def prepare(options, strategy):
    """Resolve the LM job (see ``kerasllm.training.job``)."""
    from kerasllm.data import read_documents
    from kerasllm.presets import load_preset

    preset = load_preset(options["preset"])
    if preset.family != "lstm":
        raise KerasLLMError(f"--preset {options['preset']}: a {preset.family} preset; "
                            f"train-lm needs lstm_small, lstm_medium or lstm_large.")
    fill_from_recipe(TrainLMOptions, options, preset.training)
    lines = [line for doc in read_documents(options["corpus"]) for line in doc.lines]
    tokenizer, tokens = _tokenizer(options, lines)
    preset = load_preset(options["preset"], vocabulary_size=len(tokens))
    replicas = strategy.num_replicas_in_sync
    per_replica, seq_length = options["batch_size"], options["seq_length"]
    global_batch, stateful = per_replica * replicas, options["stateful"]
    train = _stream(tokenizer, options["corpus"], seq_length, global_batch, stateful,
                    options["seed"], "--corpus")
    if stateful:
        batches, data_steps = inputs.dataset_batches(train, inputs.count_batches(train))
    else:
        x, y = (t.numpy() for t in next(iter(train.unbatch().batch(1 << 30))))
        batches, data_steps = inputs.array_batches((x, y), global_batch, options["seed"])
    eval_data = None
    if options.get("eval"):
        eval_data = _stream(tokenizer, options["eval"], seq_length, global_batch, stateful,
                            options["seed"], "--eval")
    steps_per_epoch, epochs = schedule_length(options, data_steps, preset.training.epochs)
    config = job_config("train-lm", "lm", "lstm", options["preset"], preset.model,
                        {"type": options["tokenizer"],
                         "lowercase": bool(getattr(tokenizer, "lowercase", False)),
                         "strip_accents": bool(getattr(tokenizer, "strip_accents", False))},
                        seq_length, options)

    def build():
        from kerasllm.models import LSTMLanguageModel
        from kerasllm.training.trainer import TrainPlan

        model = LSTMLanguageModel(**dataclasses.asdict(preset.model), stateful=stateful,
                                  batch_size=per_replica if stateful else None)
        optimizer = optimizers.lstm_optimizer(
            options["optimizer"], options["learning_rate"], options["clipnorm"],
            options["lr_decay"], options["decay_start_epoch"], data_steps)
        loss = lm_loss(options["loss"])  # the paper's sum over time / batch by default
        plan = TrainPlan(batches=batches, steps_per_epoch=steps_per_epoch, epochs=epochs,
                         eval_data=eval_data, tokens_per_step=global_batch * seq_length,
                         stateful=stateful, perplexity=True,
                         patience=options.get("early_stopping") or 0)
        return model, {"optimizer": optimizer, "loss": loss}, plan

    return JobSpec(config=config, vocab=tokens, build=build, export=_stateless)


def _stateless(model):
    """A stateless copy with the trained weights, for generate / evaluate / export."""
    if not model.stateful:
        return model
    config = {**model.get_config(), "stateful": False, "batch_size": None}
    copy = type(model).from_config(config)
    for target, source in zip(copy.trainable_variables, model.trainable_variables):
        target.assign(source)
    return copy


def train_lm(**options):
    """The LM job on validated options (``kerasllm.training.train_lm`` checks them); returns
    the metrics. Unset, jit is on for a single device: the stateful lstm_small step runs
    ~1.5x faster compiled on 2 CPU cores (14.4 vs 9.5 steps/s). Keras turns XLA off under
    op determinism, so that run is not bit-exact on resume; deterministic=True (without
    jit) is, at the un-compiled speed."""
    if options.get("jit") is None:  # XLA unless op determinism (Keras drops XLA under it)
        options["jit"] = not options.get("deterministic") and fast_defaults.single_device(options)
    return run_job(prepare, options)
