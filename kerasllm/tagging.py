"""Use a token-tagging (NER) run: entity metrics on tagged files, entities in raw text.

Both paths pack words into windows (``kerasllm.data.tag_windows``), run the
model batch by batch (each batch cut to its longest row), read each word's
tag at its first WordPiece and decode entities with conlleval's rules
(``kerasllm.data.tag_schemes``).
"""
import numpy as np

from kerasllm.data.tag_schemes import entity_spans
from kerasllm.data.tag_windows import encode_tag_ids, encode_windows, word_predictions
from kerasllm.data.text_decoding import decode_text
from kerasllm.data.word_offsets import split_words
from kerasllm.errors import KerasLLMError
from kerasllm.inference import compiled


def _softmax(logits):
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def _probabilities(run, windows, batch_size):
    """(N, T, C) tag probabilities of every window."""
    parts = []
    seq_length = windows.x["token_ids"].shape[1]
    for i in range(0, len(windows), batch_size):
        batch = {k: v[i:i + batch_size] for k, v in windows.x.items()}
        longest = int(batch["padding_mask"].sum(axis=1).max())
        logits = np.asarray(compiled(run.model)({k: v[:, :longest] for k, v in batch.items()}),
                            dtype="float64")
        parts.append(np.pad(_softmax(logits), [(0, 0), (0, seq_length - longest), (0, 0)]))
    return np.concatenate(parts)


def tag_words(run, sentences, batch_size=32):
    """Per sentence (list of words), per word, ``(tag name, probability)``."""
    windows = encode_windows(run.tokenizer, sentences, int(run.config["seq_length"]))
    outside = run.labels.index("O") if "O" in run.labels else 0
    per_word = word_predictions(windows, _probabilities(run, windows, batch_size),
                                [len(s) for s in sentences], outside)
    return [[(run.labels[t], p) for t, p in words] for words in per_word]


def evaluate_tagger(run, paths, batch_size=32, max_examples=None, seed=0):
    """Entity precision / recall / F1 (micro and per type) and token accuracy on tagged files."""
    from kerasllm.data.tagging import read_tagging_file
    from kerasllm.tagging_metrics import entity_scores

    gold, predicted = [], []
    for path in paths:
        data = read_tagging_file(path, tag_column=run.config.get("tag_column"))
        encode_tag_ids(data, run.labels)  # unseen tags: one error naming file:line
        words, tags = data.words[:max_examples], data.tags[:max_examples]
        gold += tags
        predicted += [[t for t, _ in sentence] for sentence in tag_words(run, words, batch_size)]
    scores = entity_scores(gold, predicted)
    metrics = {k: scores[k] for k in ("precision", "recall", "f1", "token_accuracy")}
    for kind, values in scores["per_type"].items():
        metrics[f"f1_{kind}"] = values["f1"]
    metrics.update(entities=scores["entities"], sentences=len(gold))
    return metrics


def tag_entities(run, texts, batch_size=32):
    """Per text, ``[{"type", "text", "start", "end", "score"}]``: the entities found, with
    character offsets into the text (end exclusive) and the mean probability of the
    entity's word tags."""
    if run.config.get("task") != "ner":
        raise KerasLLMError(f"{run.path}: entity tagging needs a token-tagging run (task ner), "
                            f"received task {run.config.get('task')!r}.")
    texts = [decode_text(t)[0] for t in texts]
    split = [split_words(t) for t in texts]
    tagged = tag_words(run, [[w for w, _, _ in words] for words in split], batch_size)
    results = []
    for text, words, tags in zip(texts, split, tagged):
        entities = []
        for kind, first, end in entity_spans([t for t, _ in tags]):
            start, stop = words[first][1], words[end - 1][2]
            score = float(np.mean([p for _, p in tags[first:end]]))
            entities.append({"type": kind, "text": text[start:stop], "start": start,
                             "end": stop, "score": score})
        results.append(entities)
    return results
