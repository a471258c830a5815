"""Use an extractive question-answering run: answers to questions, SQuAD metrics on files.

Windows come from ``kerasllm.data.qa_windows``; the best span over all windows
of a question (start <= end, at most ``max_answer_length`` tokens, both on the
context; every such span is scored, not only the best starts and ends, so the
TF Serving signature finds the same one) becomes the answer, mapped back to the context's characters through its
words. SQuAD v2.0 runs compare the best span with the null answer ([CLS]
start and end): the answer is "" when the null score beats the span's by more
than ``null_threshold``.
"""
import numpy as np

from kerasllm.errors import KerasLLMError
from kerasllm.inference import compiled


def _logits(run, windows, batch_size):
    starts, ends = [], []
    for i in range(0, len(windows), batch_size):
        batch = {k: v[i:i + batch_size] for k, v in windows.x.items()}
        longest = int(batch["padding_mask"].sum(axis=1).max())
        out = compiled(run.model)({k: v[:, :longest] for k, v in batch.items()})
        width = windows.x["token_ids"].shape[1]
        for name, parts in (("start", starts), ("end", ends)):
            logits = np.asarray(out[name], dtype="float64")
            parts.append(np.pad(logits, [(0, 0), (0, width - longest)], constant_values=-1e9))
    return np.concatenate(starts), np.concatenate(ends)


def _spans(start, end, context, max_answer_length):
    """(T, T) span scores start[s] + end[e], -inf where the span is not valid: both on the
    context, s <= e and at most ``max_answer_length`` tokens."""
    s, e = np.indices((len(start), len(end)))
    valid = context[:, None] & context[None, :] & (e >= s) & (e - s < max_answer_length)
    return np.where(valid, start[:, None] + end[None, :], -np.inf)


def decode_answers(windows, start_logits, end_logits, contexts, n_best=20, max_answer_length=30,
                   null_threshold=None):
    """Per example ``{"answer", "start", "end", "score", "n_best"}``: the best valid span
    over all its windows (characters, end exclusive), its probability among all valid
    spans of the question (``score``), and the ``n_best`` best distinct spans as (text,
    score)."""
    results = []
    for e, context in enumerate(contexts):
        rows = np.flatnonzero(windows.example == e)
        scores = np.stack([_spans(start_logits[r], end_logits[r], windows.word[r] >= 0,
                                  max_answer_length) for r in rows])  # (W, T, T)
        null = min(start_logits[r, 0] + end_logits[r, 0] for r in rows)
        best = scores.max() if len(rows) else -np.inf
        if not np.isfinite(best) or (null_threshold is not None and null - best > null_threshold):
            results.append({"answer": "", "start": -1, "end": -1, "score": 0.0, "n_best": []})
            continue
        probabilities = np.exp(scores - best) / np.exp(scores - best).sum()  # exp(-inf) = 0
        spans, seen = [], set()
        flat_scores = scores.reshape(-1)
        # only the best few hundred spans can make the n-best list: sort those, not W*T*T
        top = min(flat_scores.size, 20 * n_best)
        candidates = np.argpartition(-flat_scores, top - 1)[:top] if top < flat_scores.size \
            else np.arange(flat_scores.size)
        for flat in candidates[np.argsort(-flat_scores[candidates], kind="stable")]:
            w, s, t = np.unravel_index(flat, scores.shape)
            if not np.isfinite(scores[w, s, t]) or len(spans) == n_best:
                break
            a, b = windows.words[e][windows.word[rows[w], s]][0], \
                windows.words[e][windows.word[rows[w], t]][1]
            if (a, b) not in seen:  # spans ending inside the same words read the same
                seen.add((a, b))
                spans.append((context[a:b], int(a), int(b), float(probabilities[w, s, t])))
        text, a, b, score = spans[0]
        results.append({"answer": text, "start": a, "end": b, "score": score,
                        "n_best": [(t, p) for t, _, _, p in spans]})
    return results


def _settings(run):
    c = run.config
    return dict(seq_length=int(c["seq_length"]), doc_stride=int(c.get("doc_stride", 128)),
                max_query_length=int(c.get("max_query_length", 64)))


def answer_examples(run, examples, batch_size=32, n_best=20, max_answer_length=30,
                    null_threshold=None):
    """Answers (``decode_answers``) to ``QAExample`` s with a qa run."""
    from kerasllm.data.qa_windows import encode_qa

    if run.config.get("task") != "qa":
        raise KerasLLMError(f"{run.path}: answering needs a question-answering run (task qa), "
                            f"received task {run.config.get('task')!r}.")
    windows = encode_qa(run.tokenizer, examples, **_settings(run))
    start, end = _logits(run, windows, batch_size)
    if null_threshold is None and run.config.get("squad_v2"):
        null_threshold = 0.0
    return decode_answers(windows, start, end, [e.context for e in examples], n_best,
                          max_answer_length, null_threshold)


def answer(run, questions, contexts, **options):
    """Answers to ``questions`` about ``contexts`` (lists of strings, one context each)."""
    from kerasllm.data.squad import QAExample
    from kerasllm.data.text_decoding import decode_text

    if len(questions) != len(contexts):
        raise KerasLLMError(f"{len(questions)} questions but {len(contexts)} contexts; give "
                            f"one --context per --question.")
    examples = [QAExample(str(i), decode_text(q)[0], decode_text(c)[0], [])
                for i, (q, c) in enumerate(zip(questions, contexts))]
    return answer_examples(run, examples, **options)


def evaluate_qa(run, paths, batch_size=32, max_examples=None, seed=0):
    """SQuAD exact match and F1 (percent) on SQuAD-format files."""
    from kerasllm.data.squad import read_squad_file
    from kerasllm.qa_metrics import squad_scores

    examples = [e for path in paths for e in read_squad_file(path)][:max_examples]
    predicted = answer_examples(run, examples, batch_size)
    return squad_scores([p["answer"] for p in predicted],
                        [[] if e.impossible else [t for t, _ in e.answers] for e in examples])
