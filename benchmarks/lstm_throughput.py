"""Benchmark 5 — LSTM language model training tokens/s against a plain Keras LSTM stack.

The reference is what a user would write by hand: Embedding → N × keras.layers.LSTM
(return_sequences, default implementation, so the cuDNN kernel on a GPU) →
Dense(vocabulary), with Dropout where the preset has dropout. Both train with
the preset's recipe (SGD, its learning rate and clipnorm, batch and BPTT
window) on the same fixed random token batches; XLA is probed off and on for
each and the faster kept; runs alternate in this process.
"""
import numpy as np

import common  # noqa: F401
from common import Stat, alternate, best_setting, log, xla_text

KERASLLM = "kerasllm LSTMLanguageModel"
PLAIN = "keras.layers.LSTM stack"


def lstm_dataset(vocabulary_size, batch, window, num_batches=4, seed=0):
    import tensorflow as tf
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocabulary_size, (num_batches, batch, window + 1)).astype("int32")
    data = tf.data.Dataset.from_tensor_slices((tokens[:, :, :-1], tokens[:, :, 1:]))
    return data.cache().repeat().prefetch(tf.data.AUTOTUNE)


def _compile(model, recipe, jit):
    import keras
    model.compile(optimizer=keras.optimizers.SGD(recipe.learning_rate, clipnorm=recipe.clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    return model


def build_kerasllm(config, recipe, jit):
    import dataclasses
    from kerasllm.models import LSTMLanguageModel
    return _compile(LSTMLanguageModel(**dataclasses.asdict(config)), recipe, jit)


def build_plain(config, recipe, jit):
    import keras
    init = keras.initializers.RandomUniform(-config.init_scale, config.init_scale)
    layers = [keras.Input((recipe.seq_length,), dtype="int32"),
              keras.layers.Embedding(config.vocabulary_size, config.embedding_dim,
                                     embeddings_initializer=init)]
    for _ in range(config.num_layers):
        if config.dropout:
            layers.append(keras.layers.Dropout(config.dropout))
        layers.append(keras.layers.LSTM(config.units, return_sequences=True,
                                        kernel_initializer=init, recurrent_initializer=init))
    if config.dropout:
        layers.append(keras.layers.Dropout(config.dropout))
    layers.append(keras.layers.Dense(config.vocabulary_size, kernel_initializer=init))
    return _compile(keras.Sequential(layers), recipe, jit)


def measure_preset(name, settings):
    from kerasllm.presets import load_preset
    preset = load_preset(name, **settings.lstm_overrides)
    config, recipe = preset.model, preset.training
    dataset = lstm_dataset(config.vocabulary_size, recipe.batch_size, recipe.seq_length)
    timers, probes, errors = {}, {}, {}
    for label, builder in ((KERASLLM, build_kerasllm), (PLAIN, build_plain)):
        log(f"lstm {name}: probing {label}")
        try:
            timers[label], probes[label] = best_setting(
                lambda jit: builder(config, recipe, jit), dataset, settings)
        except Exception as exc:  # keep the other contender's figure
            errors[label] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    stats = alternate(timers, settings.repeats, settings.lstm_steps)
    return preset, stats, timers, probes, errors


def run(settings, context):
    rows, notes = [], []
    for name in settings.lstm_presets:
        preset, stats, timers, probes, errors = measure_preset(name, settings)
        tokens = preset.training.batch_size * preset.training.seq_length
        notes += [f"{name} / {label} not measured: {error}" for label, error in errors.items()]
        for label, step in stats.items():
            rows.append({"preset": name, "implementation": label,
                         "batch × window": f"{preset.training.batch_size} × "
                                           f"{preset.training.seq_length}",
                         "XLA": xla_text(timers[label].jit_compile, probes[label]),
                         "ms/step": step.scaled(1e3).to_json(),
                         "tokens/s": step.inverse(tokens).to_json()})
        if len(timers) == 2:
            ratio = Stat.of([p / k for k, p in zip(timers[KERASLLM].step_times,
                                                   timers[PLAIN].step_times)])
            rows.append({"preset": name, "implementation": "ratio kerasllm / plain",
                         "tokens/s": ratio.to_json(), "_no_plot": True})
    notes.append("Ratio row: per alternating repeat, plain-stack step time / kerasllm step time.")
    return {"lstm": {
        "title": "5. LSTM language model training vs a plain keras.layers.LSTM stack",
        "columns": ["preset", "implementation", "batch × window", "XLA", "ms/step", "tokens/s"],
        "rows": rows, "notes": notes,
        "plot": {"x": "preset", "group_by": "implementation", "series": ["tokens/s"],
                 "ylabel": "tokens/s"}}}
