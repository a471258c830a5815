"""Benchmark 2 — end-to-end classifier fine-tuning on real short texts, kerasllm vs keras-hub.

Data: the titles (first lines) of the BBC News articles shipped with kerasllm
(``kerasllm.data.datasets.bbc_news``), 5 topics, the fixed train / test split.
Both sides start from raw strings and tokenize inside their ``tf.data``
pipeline while training, with the same WordPiece vocabulary (learned from the
training articles with ``kerasllm.data.learn_vocabulary``), the same randomly
initialised BERT size (no checkpoint download), batch, optimizer and number of
steps; runs alternate in one process. Accuracy on the test titles is measured
after both have trained the same steps.

- kerasllm: ``WordPieceTokenizer`` + ``pack_inputs`` and dynamic padding
  (each batch cut to its longest row) → ``BertClassifier``.
- keras-hub: ``BertTextClassifier`` with its default preprocessing,
  ``BertTextClassifierPreprocessor`` (``sequence_length`` default 512).
"""
import numpy as np

import common  # noqa: F401
from bert_models import bert_config, kerashub_backbone, kerasllm_encoder
from common import Stat, alternate, best_setting, log, xla_text
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


def training_vocabulary(size):
    from kerasllm.data import learn_vocabulary
    from kerasllm.data.datasets import bbc_news
    return learn_vocabulary((line for d in bbc_news("train") for line in d.lines), size)


def _shuffled(texts, labels, batch):
    import tensorflow as tf
    data = tf.data.Dataset.from_tensor_slices((texts, labels))
    return data.shuffle(len(texts), seed=0).repeat().batch(batch, drop_remainder=True)


def kerasllm_dataset(tokenizer, texts, labels, batch):
    """Raw titles → tokenized, packed, dynamically padded batches (tokenization in tf.data)."""
    import tensorflow as tf
    from kerasllm.data.packing import pack_inputs, trim_to_longest

    def encode(text, label):
        return trim_to_longest(pack_inputs(tokenizer, tokenizer.tokenize(text), None, MAX_LENGTH)), label

    data = _shuffled(texts, labels, batch).map(encode, num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


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


def run(settings, context):
    from kerasllm.data import WordPieceTokenizer
    from kerasllm.data.datasets import BBC_LABELS
    train_texts, train_labels = bbc_titles("train", settings.finetune_examples)
    test_texts, test_labels = bbc_titles("test")
    vocabulary = training_vocabulary(settings.finetune_vocab_size)
    tokenizer = WordPieceTokenizer(vocabulary)
    overrides = dict(settings.bert_overrides, vocabulary_size=len(vocabulary))
    overrides.pop("max_sequence_length", None)  # keras-hub's default preprocessor needs 512
    config = bert_config(settings.finetune_size, **overrides)
    batch, classes = settings.finetune_batch, len(BBC_LABELS)
    lengths = tokenizer.tokenize(train_texts).row_lengths().numpy() + 2
    builders = {
        KERASLLM: (lambda jit: build_kerasllm(config, classes, jit),
                   kerasllm_dataset(tokenizer, train_texts, train_labels, batch)),
        KERASHUB: (lambda jit: build_kerashub(config, vocabulary, classes, jit),
                   _shuffled(train_texts, train_labels, batch)),
    }
    timers, probes, notes = {}, {}, []
    for name, (build, dataset) in builders.items():
        log(f"finetune: probing {name}")
        try:  # warm-up long enough to see most batch shapes (dynamic padding retraces)
            timers[name], probes[name] = best_setting(build, dataset, settings, warmup=8)
        except Exception as exc:
            notes.append(f"{name} not measured: {type(exc).__name__}: {exc}".splitlines()[0][:300])
    stats = alternate(timers, settings.finetune_repeats, settings.finetune_steps)
    rows = []
    for name, step in stats.items():
        model = timers[name].model
        seq = f"≤ {MAX_LENGTH}, per batch" if name == KERASLLM else str(model.sequence_length_used)
        rows.append({"implementation": name, "sequence length": seq,
                     "XLA": xla_text(timers[name].jit_compile, probes[name]),
                     "steps trained": int(model.optimizer.iterations.numpy()),
                     "ms/step": step.scaled(1e3).to_json(),
                     "examples/s": step.inverse(batch).to_json(),
                     "test accuracy": accuracy(name, model, tokenizer, test_texts, test_labels)})
    targets = []
    if len(timers) == 2:
        ratio = Stat.of([h / k for k, h in zip(timers[KERASLLM].step_times, timers[KERASHUB].step_times)])
        rows.append({"implementation": "ratio kerasllm / keras-hub", "examples/s": ratio.to_json(),
                     "_no_plot": True})
        targets.append(target("fine-tuning examples/s vs keras-hub", ratio.to_json(), "≥ 2×",
                              ratio.median >= 2.0))
    notes += [
        f"{len(train_texts)} training titles, {len(test_texts)} test titles; tokens per title "
        f"incl. [CLS]/[SEP]: median {np.median(lengths):.0f}, max {lengths.max()}.",
        f"Model {settings.finetune_size} sizes, random initialisation, vocabulary "
        f"{len(vocabulary)} WordPieces learned from the training articles; batch {batch}; "
        f"AdamW {LEARNING_RATE}; both tokenize raw strings inside tf.data while training.",
        "Accuracy: test titles after the same number of training steps (warm-up, "
        "XLA probe and timed repeats included).",
    ]
    return {"finetune": {
        "title": "2. Fine-tuning on BBC News titles, end to end (tokenization included)",
        "columns": ["implementation", "sequence length", "XLA", "steps trained", "ms/step",
                    "examples/s", "test accuracy"],
        "rows": rows, "notes": notes, "targets": targets,
        "plot": {"x": "implementation", "series": ["examples/s"], "ylabel": "examples/s"}}}
