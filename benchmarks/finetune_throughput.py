"""Benchmark 2 — end-to-end classifier fine-tuning on real short texts, kerasllm vs keras-hub.

Data: the titles (first lines) of the BBC News articles shipped with kerasllm
(``kerasllm.data.datasets.bbc_news``), 5 topics, the fixed train / test split.
Both sides start from raw strings and tokenize inside their ``tf.data``
pipeline while training, with the same WordPiece vocabulary (learned from the
training articles with ``kerasllm.data.learn_vocabulary``), the same randomly
initialised BERT size (no checkpoint download), batch, optimizer and number of
steps; runs alternate in one process. Accuracy on the test titles is measured
after both have trained the same steps.

- kerasllm: ``WordPieceTokenizer`` + the fine-tuning job's own input stream
  (``encode_texts`` then ``inputs.length_grouped_batches``: tokenize and pack
  once, texts of similar length per batch, each batch cut to its longest row)
  → ``BertClassifier``. (float32 on both sides; ``kerasllm finetune``'s
  machine-picked defaults are timed in section 8.)
- keras-hub: ``BertTextClassifier`` with its default preprocessing,
  ``BertTextClassifierPreprocessor`` (``sequence_length`` default 512).
"""
import time
import traceback

import numpy as np

import common  # noqa: F401
from bert_models import bert_config, kerashub_backbone, kerasllm_encoder
from common import Stat, best_setting, log, xla_text
from report import target

KERASLLM = "kerasllm BertClassifier (dynamic padding)"
KERASHUB = "keras-hub BertTextClassifier (default preprocessor)"
LEARNING_RATE = 5e-4
MAX_LENGTH = 128  # kerasllm's cap; titles are far shorter, dynamic padding cuts each batch


def bbc_titles(split, limit=None):
    from kerasllm.data.datasets import BBC_LABELS, bbc_news
    docs = bbc_news(split)
    if limit:
        docs = [docs[i] for i in np.random.default_rng(0).permutation(len(docs))[:limit]]
    return [d.lines[0] for d in docs], np.array([BBC_LABELS.index(d.label) for d in docs], "int32")


def training_vocabulary(size, context):
    """A WordPiece vocabulary learned from the BBC training articles, once per run."""
    from kerasllm.data import learn_vocabulary
    from kerasllm.data.datasets import bbc_news
    cache = context.setdefault("vocabulary", {})
    if size not in cache:
        cache[size] = learn_vocabulary((line for d in bbc_news("train") for line in d.lines), size)
    return cache[size]


def _shuffled(texts, labels, batch, repeat):
    import tensorflow as tf
    data = tf.data.Dataset.from_tensor_slices((texts, labels)).shuffle(len(texts), seed=0)
    return (data.repeat() if repeat else data).batch(batch)


def kerasllm_stream(tokenizer, texts, labels, batch):
    """What ``kerasllm finetune`` trains on, from raw titles: ``encode_texts`` (tokenize
    + pack once) and the job's own stream, ``inputs.length_grouped_batches`` (texts of
    similar length per batch, each cut to its longest row, a new order every epoch).
    Returns ``(endless dataset, steps per epoch)``, what the job hands to ``fit``."""
    from kerasllm.data.classification import ClassificationData, encode_texts
    from kerasllm.training.inputs import length_grouped_batches
    data = ClassificationData("bbc_news titles", list(texts), None, None, list(range(1, len(texts) + 1)))
    batches, steps = length_grouped_batches(encode_texts(data, tokenizer, MAX_LENGTH),
                                            np.asarray(labels, "int32"), batch, seed=0)
    return batches(0), steps


def kerasllm_dataset(tokenizer, texts, labels, batch, repeat):
    """``kerasllm_stream``: endless (``repeat``) or its first epoch."""
    stream, steps = kerasllm_stream(tokenizer, texts, labels, batch)
    return stream if repeat else stream.take(steps)


def _compile(model, jit):
    import keras
    model.compile(optimizer=keras.optimizers.AdamW(LEARNING_RATE, weight_decay=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[], jit_compile=jit)
    return model


def build_kerasllm(config, num_classes, jit):
    from kerasllm.models import BertClassifier
    return _compile(BertClassifier(kerasllm_encoder(config), num_classes=num_classes), jit)


def build_kerashub(config, vocabulary, num_classes, jit):
    import keras_hub
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer)
    model = keras_hub.models.BertTextClassifier(
        kerashub_backbone(config), num_classes=num_classes, preprocessor=preprocessor)
    model.sequence_length_used = preprocessor.sequence_length
    return _compile(model, jit)


def accuracy(name, model, tokenizer, texts, labels):
    if name == KERASHUB:  # predict() applies its own preprocessor to raw strings
        logits = model.predict(np.array(texts), batch_size=64, verbose=0)
    else:
        from kerasllm.data.packing import pack_inputs, trim_to_longest
        inputs = trim_to_longest(pack_inputs(tokenizer, tokenizer.tokenize(texts), None, MAX_LENGTH))
        logits = model.predict(inputs, batch_size=64, verbose=0)
    return float((np.argmax(logits, -1) == labels).mean())


def timed_epoch(model, make_dataset):
    """Seconds for one epoch from raw strings: dataset construction (kerasllm
    tokenizes here) plus ``fit`` (keras-hub tokenizes inside it)."""
    start = time.perf_counter()
    model.fit(make_dataset(), epochs=1, verbose=0, shuffle=False)  # the dataset shuffles
    return time.perf_counter() - start


def timed_run(model, make_stream, epochs):
    """Seconds for ``epochs`` passes from raw strings the way ``kerasllm finetune`` runs
    them: the stream built once (``make_stream() -> (dataset, steps per epoch)``, where
    kerasllm tokenizes), then one ``fit`` over all epochs."""
    start = time.perf_counter()
    stream, steps = make_stream()
    model.fit(stream, epochs=epochs, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def epoch_ratio(ours, theirs, rival, goal):
    """(table row, target) of the per-repeat speed ratio, ``theirs`` s/epoch over ``ours``."""
    ratio = Stat.of([t / k for k, t in zip(ours, theirs)])
    row = {"implementation": f"ratio kerasllm / {rival}", "examples/s": ratio.to_json(), "_no_plot": True}
    return row, target(f"fine-tuning examples/s vs {rival}", ratio.to_json(), f"≥ {goal:g}×",
                       ratio.median >= goal)


def run(settings, context):
    from kerasllm.data import WordPieceTokenizer
    from kerasllm.data.datasets import BBC_LABELS
    train_texts, train_labels = bbc_titles("train", settings.finetune_examples)
    test_texts, test_labels = bbc_titles("test")
    vocabulary = training_vocabulary(settings.finetune_vocab_size, context)
    tokenizer = WordPieceTokenizer(vocabulary)
    overrides = dict(settings.bert_overrides, vocabulary_size=len(vocabulary))
    overrides.pop("max_sequence_length", None)  # keras-hub's default preprocessor needs 512
    config = bert_config(settings.finetune_size, **overrides)
    batch, classes = settings.finetune_batch, len(BBC_LABELS)
    lengths = tokenizer.tokenize(train_texts).row_lengths().numpy() + 2
    contenders = {  # name: (build(jit), dataset(repeat))
        KERASLLM: (lambda jit: build_kerasllm(config, classes, jit),
                   lambda repeat: kerasllm_dataset(tokenizer, train_texts, train_labels, batch, repeat)),
        KERASHUB: (lambda jit: build_kerashub(config, vocabulary, classes, jit),
                   lambda repeat: _shuffled(train_texts, train_labels, batch, repeat)),
    }
    timers, probes, notes = {}, {}, []
    for name, (build, dataset) in contenders.items():
        log(f"finetune: probing {name}")
        try:  # a warm-up long enough to meet most batch shapes (dynamic padding retraces)
            # XLA compiles every new batch shape, and dynamic padding makes many: a step probe
            # misses that (quick run: XLA epochs took 1.3 to 67 s), so kerasllm runs it off.
            options = (False,) if name == KERASLLM else None
            timers[name], probes[name] = best_setting(build, dataset(True), settings, warmup=8,
                                                      jit_options=options)
        except Exception as exc:  # keep the other contender's figure
            traceback.print_exc()
            notes.append(f"{name} not measured: {type(exc).__name__}: {exc}".splitlines()[0][:300])
    epochs = {name: [] for name in timers}
    log(f"finetune: {settings.finetune_repeats} alternating end-to-end epochs of {len(train_texts)} titles")
    for _ in range(settings.finetune_repeats):
        for name, timer in timers.items():
            epochs[name].append(timed_epoch(timer.model, lambda: contenders[name][1](False)))
    rows = []
    for name, seconds in epochs.items():
        model = timers[name].model
        seq = f"≤ {MAX_LENGTH}, per batch" if name == KERASLLM else str(model.sequence_length_used)
        rows.append({"implementation": name, "sequence length": seq,
                     "XLA": xla_text(timers[name].jit_compile, probes[name]),
                     "steps trained": int(model.optimizer.iterations.numpy()),
                     "s/epoch": Stat.of(seconds).to_json(),
                     "examples/s": Stat.of(seconds).inverse(len(train_texts)).to_json(),
                     "test accuracy": accuracy(name, model, tokenizer, test_texts, test_labels)})
    targets = []
    if len(epochs) == 2:
        row, goal = epoch_ratio(epochs[KERASLLM], epochs[KERASHUB], "keras-hub", 2.0)
        rows.append(row)
        targets.append(goal)
    notes += [
        f"{len(train_texts)} training titles per epoch, {len(test_texts)} test titles; tokens per "
        f"title incl. [CLS]/[SEP]: median {np.median(lengths):.0f}, max {lengths.max()}.",
        f"Both {settings.finetune_size}-sized, randomly initialised, vocabulary {len(vocabulary)} "
        f"WordPieces learned from the training articles; batch {batch}; AdamW {LEARNING_RATE}.",
        "One repeat = one epoch from raw strings: kerasllm finetune's input stream (tokenize "
        "+ pack once, similar lengths per batch, batches cut to their longest row) + fit; "
        "keras-hub's fit maps its preprocessor over the string batches. Ratio per repeat.",
        "Accuracy on the test titles after all the training both did (warm-up, XLA probe, "
        "timed epochs): see 'steps trained'.",
    ]
    return {"finetune": {
        "title": "2. Fine-tuning on BBC News titles, end to end (tokenization included)",
        "columns": ["implementation", "sequence length", "XLA", "steps trained", "s/epoch",
                    "examples/s", "test accuracy"],
        "rows": rows, "notes": notes, "targets": targets,
        "plot": {"x": "implementation", "series": ["examples/s"], "ylabel": "examples/s",
                 "log": True}}}
