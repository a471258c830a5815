"""Benchmark 11 — fine-tuning end to end on BBC News titles, kerasllm vs transformers (PyTorch).

Same data, vocabulary, size, batch and optimizer as section 2 (``finetune_throughput``).
One repeat is a whole fine-tuning run of ``finetune_torch_epochs`` passes from raw
strings, tokenization included, each side the way its users run it:

- kerasllm: ``BertClassifier`` on the ``kerasllm finetune`` job's own input stream
  (``finetune_throughput.kerasllm_stream``: tokenize + pack once per run, similar lengths
  per batch, each batch cut to its longest row), one ``fit`` over all epochs, XLA off
  (dynamic shapes; see section 2);
- transformers: ``BertForSequenceClassification`` of the same size, randomly initialised,
  with ``BertTokenizerFast`` built from the same learned WordPiece vocabulary (the
  ``vocab.txt`` / ``tokenizer_config.json`` that ``kerasllm export-hf`` writes), called per
  batch with ``padding=True`` — dynamic padding to the batch's longest title, the fair
  setting (``padding="max_length"`` would pad every title to 128) — and the usual
  eager loop (forward with labels, backward, AdamW step), every epoch.

Why whole runs, not single epochs each rebuilt from strings (this section until
2026-12-04): kerasllm tokenizes once per run and traces its input pipeline once
(0.1-1 s, most of a 10-step epoch), which a per-epoch timer charged every epoch;
a user pays it once per job. Start-up in a fresh process (imports, model tracing)
is what section 9 measures, with the real ``kerasllm finetune`` job.

A separate section rather than a third contender in section 2: that section's loop is
built on Keras models (``best_setting`` / ``fit`` / ``predict``) and keeps its own time budget.
"""
import tempfile
import time
import traceback

import numpy as np

import common  # noqa: F401
from bert_models import bert_config
from common import Stat, best_setting, log
from finetune_throughput import (KERASLLM, LEARNING_RATE, MAX_LENGTH, accuracy, bbc_titles,
                                 build_kerasllm, epoch_ratio, kerasllm_dataset, kerasllm_stream,
                                 timed_run,
                                 training_vocabulary)
from torch_models import adamw, new_model
from torch_timing import Trainable, device, torch_threads

TRANSFORMERS = "transformers BertForSequenceClassification (padding=True)"
WARMUP_STEPS = 8  # as section 2's Keras warm-up


def fast_tokenizer(vocabulary, directory):
    """``BertTokenizerFast`` over ``vocabulary`` (lower-cased, accents stripped, as kerasllm's)."""
    from transformers import BertTokenizerFast
    from kerasllm.checkpoints.hf_tokenizer import write_tokenizer_files
    write_tokenizer_files(directory, list(vocabulary), {}, max_length=MAX_LENGTH)
    return BertTokenizerFast.from_pretrained(directory)


class TorchClassifier:
    """transformers' classifier trained the way its users write the loop."""

    def __init__(self, config, num_classes, tokenizer, batch):
        model = new_model("BertForSequenceClassification", config, num_labels=num_classes)
        self.trainable = Trainable(model, adamw(model, LEARNING_RATE), "eager")
        self.tokenizer, self.batch, self.steps = tokenizer, batch, 0

    def _encode(self, texts):
        encoded = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_LENGTH,
                                 return_tensors="pt")
        return {k: v.to(device()) for k, v in encoded.items()}

    def epoch(self, texts, labels, seed):
        """One shuffled pass from raw strings; returns its seconds."""
        import torch
        start = time.perf_counter()
        self.trainable.model.train()
        order = np.random.default_rng(seed).permutation(len(texts))
        for begin in range(0, len(texts), self.batch):
            rows = order[begin:begin + self.batch]
            batch = self._encode(texts[i] for i in rows)
            batch["labels"] = torch.as_tensor(labels[rows], dtype=torch.long, device=device())
            loss = self.trainable.step(batch)
            self.steps += 1
        float(loss)  # the last step has finished
        return time.perf_counter() - start

    def accuracy(self, texts, labels):
        import torch
        self.trainable.model.eval()
        predicted = []
        with torch.inference_mode():
            for begin in range(0, len(texts), 64):
                logits = self.trainable.model(**self._encode(texts[begin:begin + 64])).logits
                predicted += logits.argmax(-1).tolist()
        return float((np.array(predicted) == labels).mean())


def run(settings, context):
    from kerasllm.data import WordPieceTokenizer
    from kerasllm.data.datasets import BBC_LABELS
    threads = torch_threads()
    train_texts, train_labels = bbc_titles("train", settings.finetune_examples)
    test_texts, test_labels = bbc_titles("test")
    vocabulary = training_vocabulary(settings.finetune_vocab_size, context)
    tokenizer = WordPieceTokenizer(vocabulary)
    overrides = dict(settings.bert_overrides, vocabulary_size=len(vocabulary))
    overrides.pop("max_sequence_length", None)  # as section 2
    config = bert_config(settings.finetune_size, **overrides)
    batch, classes = settings.finetune_batch, len(BBC_LABELS)
    log("finetune_torch: kerasllm warm-up")
    keras_timer, _ = best_setting(lambda jit: build_kerasllm(config, classes, jit),
                                  kerasllm_dataset(tokenizer, train_texts, train_labels, batch, True),
                                  settings, warmup=WARMUP_STEPS, jit_options=(False,))
    theirs, notes = None, []
    try:
        log("finetune_torch: transformers warm-up")
        theirs = TorchClassifier(config, classes, fast_tokenizer(vocabulary, tempfile.mkdtemp()), batch)
        theirs.epoch(train_texts[:WARMUP_STEPS * batch], train_labels[:WARMUP_STEPS * batch], seed=0)
    except Exception as exc:  # keep kerasllm's figure
        traceback.print_exc()
        notes.append(f"{TRANSFORMERS} not measured: {type(exc).__name__}: {exc}".splitlines()[0][:300])
        theirs = None
    epochs = {KERASLLM: [], TRANSFORMERS: []} if theirs else {KERASLLM: []}
    passes = settings.finetune_torch_epochs
    log(f"finetune_torch: {settings.finetune_repeats} alternating runs of {passes} epochs "
        f"over {len(train_texts)} titles")
    for repeat in range(settings.finetune_repeats):
        epochs[KERASLLM].append(timed_run(keras_timer.model, lambda: kerasllm_stream(
            tokenizer, train_texts, train_labels, batch), passes) / passes)
        if theirs:
            epochs[TRANSFORMERS].append(sum(theirs.epoch(train_texts, train_labels, seed=repeat * passes + e)
                                            for e in range(1, passes + 1)) / passes)
    steps = {KERASLLM: int(keras_timer.model.optimizer.iterations.numpy())}
    scores = {KERASLLM: accuracy(KERASLLM, keras_timer.model, tokenizer, test_texts, test_labels)}
    if theirs:
        steps[TRANSFORMERS], scores[TRANSFORMERS] = theirs.steps, theirs.accuracy(test_texts, test_labels)
    rows = [{"implementation": name, "padding": "per batch (longest row)", "steps trained": steps[name],
             "s/epoch": Stat.of(seconds).to_json(),
             "examples/s": Stat.of(seconds).inverse(len(train_texts)).to_json(),
             "test accuracy": scores[name]} for name, seconds in epochs.items()]
    targets = []
    if theirs:
        row, goal = epoch_ratio(epochs[KERASLLM], epochs[TRANSFORMERS], "transformers", 1.0)
        rows.append(row)
        targets.append(goal)
    notes += [
        f"{len(train_texts)} training titles per epoch, {len(test_texts)} test titles; both "
        f"{settings.finetune_size}-sized, randomly initialised, vocabulary {len(vocabulary)} WordPieces "
        f"learned from the training articles; batch {batch}; AdamW {LEARNING_RATE} (epsilon 1e-7); float32 (bfloat16 on a GPU, both sides).",
        f"One repeat = one fine-tuning run of {passes} epochs from raw strings, tokenization "
        "included (kerasllm: once per run, as `kerasllm finetune`; transformers: every batch, "
        "its usual loop); s/epoch = run / epochs; ratio per alternating repeat.",
        "transformers: BertTokenizerFast from the same vocabulary with padding=True (dynamic padding, "
        "the fair setting: kerasllm also cuts each batch to its longest row), eager PyTorch "
        f"(torch.compile would recompile per batch shape), {threads} threads on both sides.",
        "Accuracy on the test titles after all training each side did (warm-up included: 'steps trained').",
        "GPU variant: written (device selection), not run.",
    ]
    return {"finetune_torch": {
        "title": "11. Fine-tuning on BBC News titles vs transformers (PyTorch), end to end",
        "columns": ["implementation", "padding", "steps trained", "s/epoch", "examples/s", "test accuracy"],
        "rows": rows, "notes": notes, "targets": targets,
        "plot": {"x": "implementation", "series": ["examples/s"], "ylabel": "examples/s"}}}
