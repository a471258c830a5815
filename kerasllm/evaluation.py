"""``evaluate``: the held-out metrics that fit a run's task.

* pretraining runs (mlm / nsp / mlm+nsp / sop / mlm+sop): masked-LM accuracy and loss
  over real masked tokens, NSP (or SOP) accuracy, on a corpus (masked with a
  fixed seed) or on TFRecord shards written by ``kerasllm data pretrain``;
* LSTM LM runs (lm): perplexity = exp(mean next-token cross-entropy), with the
  LSTM state carried across windows (Zaremba et al.'s evaluation);
* classifiers (classify): accuracy and macro-F1 on labelled CSV / TSV / JSONL.

Which evaluator a run gets is its task's ``evaluator`` in ``kerasllm.tasks``.
``evaluate_run`` returns the metrics and writes them as JSON.
"""
import json
import os
from pathlib import Path

import numpy as np

from kerasllm import tasks
from kerasllm.errors import KerasLLMError

EVAL_FILE = "eval_metrics.json"


def accuracy(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def macro_f1(y_true, y_pred):
    """Unweighted mean of per-class F1 over the classes seen in ``y_true`` or ``y_pred``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    scores = []
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_pred == c) & (y_true == c))
        predicted, actual = np.sum(y_pred == c), np.sum(y_true == c)
        scores.append(0.0 if tp == 0 else 2 * tp / (predicted + actual))
    return float(np.mean(scores))


def _log_softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def _cross_entropy(logits, targets):
    """Per-position cross-entropy in nats: (..., V) logits, (...) int targets -> (...)."""
    log_probs = _log_softmax(np.asarray(logits, dtype="float64"))
    return -np.take_along_axis(log_probs, np.asarray(targets)[..., None], axis=-1)[..., 0]


def evaluate_classifier(run, paths, batch_size=32, max_examples=None, seed=0):
    from kerasllm.data.classification import encode_labels, encode_texts, read_classification_file
    from kerasllm.data.length_batching import map_in_length_order

    config = run.config
    y_true, y_pred = [], []
    for path in paths:
        data = read_classification_file(
            path, text_column=config.get("text_column", "text"),
            pair_column=config.get("pair_column") or ("text_pair" if config.get("text_pair")
                                                       else None),
            label_column=config.get("label_column", "label"))
        y_true.append(encode_labels(data, run.labels))
        logits = map_in_length_order(lambda x: run.model(x, training=False),  # (N, C)
                                     encode_texts(data, run.tokenizer, config["seq_length"]),
                                     batch_size)
        y_pred.append(logits.argmax(-1))
    y_true, y_pred = np.concatenate(y_true)[:max_examples], np.concatenate(y_pred)[:max_examples]
    return {"accuracy": accuracy(y_true, y_pred), "macro_f1": macro_f1(y_true, y_pred),
            "examples": int(len(y_true))}


def evaluate_language_model(run, paths, batch_size=32, max_examples=None, seed=0):
    """Perplexity of the whole text read once, in order, as one stream (Zaremba et al.).

    Like the paper's test pass (batch 1), the LSTM state is carried from the
    first token to the last: every token but the first is predicted from all
    the text before it, never from a state reset at a window or lane start.
    The text is fed in chunks of ``batch_size x seq_length`` tokens (only the
    speed depends on that); ``max_examples`` caps the number of
    ``seq_length`` windows scored.
    """
    import tensorflow as tf

    from kerasllm.data.language_modeling import corpus_token_stream

    stream = corpus_token_stream(run.tokenizer, paths)  # (N,) int32
    seq_length = int(run.config["seq_length"])
    if max_examples:
        stream = stream[: max_examples * seq_length + 1]
    if len(stream) < 2:
        raise KerasLLMError(f"{', '.join(map(str, paths))}: {len(stream)} token(s); "
                            f"language-model evaluation needs at least 2.")
    chunk = max(1, batch_size) * seq_length
    prefill = tf.function(run.model.prefill, reduce_retracing=True)
    states = run.model.initial_state(1)
    total = 0.0
    for start in range(0, len(stream) - 1, chunk):
        inputs = stream[start: start + chunk][None, :]  # (1, C)
        targets = stream[start + 1: start + chunk + 1][None, :]
        inputs = inputs[:, : targets.shape[1]]
        logits, states = prefill(inputs, states)  # (1, C, V); state carried on
        total += float(_cross_entropy(logits.numpy(), targets).sum())
    count = len(stream) - 1
    loss = total / count
    return {"perplexity": float(np.exp(loss)), "loss": loss, "tokens": int(count),
            "state": "carried across the whole text (one stream, in order)"}


def _pretraining_dataset(run, paths, batch_size, seed):
    from kerasllm.data.corpus import read_documents
    from kerasllm.data.masking import VocabularyInfo
    from kerasllm.data.pretraining_examples import PretrainingConfig
    from kerasllm.data.streaming import streaming_pretraining_dataset
    from kerasllm.data.tfrecords import load_pretraining_dataset
    from kerasllm.data.tokenized_corpus import TokenizedCorpus

    task = run.config["task"]
    if all(os.path.isdir(p) or str(p).endswith(".tfrecord") for p in paths):
        return load_pretraining_dataset(paths, batch_size, task=task, shuffle=False)
    corpus = TokenizedCorpus.from_documents(read_documents(paths), run.tokenizer)
    options = PretrainingConfig(seq_length=int(run.config["seq_length"]), seed=seed)
    return streaming_pretraining_dataset(corpus, VocabularyInfo.from_tokenizer(run.tokenizer),
                                         batch_size, task=task, config=options)


def evaluate_pretraining(run, paths, batch_size=32, max_examples=None, seed=0):
    """Held-out pretraining metrics of a run on a corpus (masked with ``seed``) or TFRecords."""
    return pretraining_metrics(run.model, run.config["task"],
                               _pretraining_dataset(run, paths, batch_size, seed), max_examples)


def pretraining_metrics(model, task, batches, max_examples=None):
    """Masked-LM loss, accuracy and pseudo-perplexity (exp of the loss) over the real masked
    tokens, and NSP / SOP accuracy beside the majority rate of its labels, of ``model`` (a
    ``task`` model) on pretraining ``batches`` ``(x, y, sample_weight)``; also what
    ``pretrain --eval`` logs during training."""
    from kerasllm.inference import compiled

    task = tasks.get(task)
    pair = "sop" if "sop" in task.name else "nsp"
    mlm_hits = mlm_loss = mlm_count = 0.0
    pair_true, pair_pred, rows = [], [], 0
    for batch in batches:
        x, y = batch[0], batch[1]
        out = compiled(model)(x)
        both = isinstance(out, dict)  # mlm+nsp / mlm+sop: {"mlm": ..., "nsp": ...}
        mlm_out, pair_out = ((out["mlm"], out["nsp"]) if both else
                             (out, None) if task.masked_lm else (None, out))
        if mlm_out is not None:
            ids = np.asarray(y["mlm"] if both else y)
            weights = np.asarray(batch[2]["mlm"] if both else batch[2])
            logits = np.asarray(mlm_out)  # (B, P, V)
            mlm_hits += float(((logits.argmax(-1) == ids) * weights).sum())
            mlm_loss += float((_cross_entropy(logits, ids) * weights).sum())
            mlm_count += float(weights.sum())
        if pair_out is not None:
            pair_true.append(np.asarray(y["nsp"] if both else y))
            pair_pred.append(np.asarray(pair_out).argmax(-1))
        rows += int(x["token_ids"].shape[0])
        if max_examples and rows >= max_examples:
            break
    metrics = {}
    if mlm_count:
        metrics.update(masked_lm_accuracy=mlm_hits / mlm_count,
                       masked_lm_loss=mlm_loss / mlm_count,
                       masked_lm_perplexity=float(np.exp(mlm_loss / mlm_count)),
                       masked_tokens=int(mlm_count))
    if pair_true:
        labels = np.concatenate(pair_true)
        metrics[f"{pair}_accuracy"] = accuracy(labels, np.concatenate(pair_pred))
        # what always answering the commoner label scores: pairs cut from real documents are not
        # exactly 50/50 (0.54-0.55 on the BBC test articles), so NSP is judged against this
        positive = float(labels.mean())
        metrics[f"{pair}_majority_rate"] = max(positive, 1.0 - positive)
    metrics["examples"] = rows
    return metrics


def metrics_path(run_dir, data, output=None, overwrite=False):
    """The JSON file for the metrics; refuses to replace metrics measured on other data.

    Re-evaluating on the same data rewrites the file (same measurement, newer
    model); metrics on different data are kept unless ``overwrite``.
    """
    path = Path(output) if output else Path(run_dir) / EVAL_FILE
    if path.is_dir():
        raise KerasLLMError(f"--output {path}: is a directory; pass a JSON file name.")
    if path.is_file() and not overwrite:
        try:
            earlier = json.loads(path.read_text(encoding="utf-8")).get("data")
        except (ValueError, UnicodeDecodeError, AttributeError):
            earlier = None
        if earlier != [str(d) for d in data]:
            raise KerasLLMError(
                f"{path} holds earlier metrics (on {earlier}); pass --output FILE for these, "
                f"or --overwrite to replace them.")
    return path


def evaluate_run(run_dir, data, output=None, batch_size=32, max_examples=None, seed=0,
                 overwrite=False):
    """Evaluate RUN_DIR on ``data`` (list of paths / globs); returns (metrics, JSON path)."""
    from kerasllm.runs import load_run

    path = metrics_path(run_dir, data, output, overwrite)
    run = load_run(run_dir)
    task = run.config["task"]
    evaluator = tasks.get(task, f"{run_dir}: task").resolve("evaluator")
    if evaluator is None:
        raise KerasLLMError(f"{run_dir}: task {task!r} has no head to evaluate; evaluate a run "
                            f"of task {', '.join(tasks.with_field('evaluator'))}.")
    metrics = evaluator(run, data, batch_size, max_examples, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"task": task, "data": [str(d) for d in data], **metrics},
                              indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return metrics, path
