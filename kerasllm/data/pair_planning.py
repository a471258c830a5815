"""Plan BERT pretraining pairs (A, B, label) over a tokenized corpus.

This is the segmenting step of google-research/bert's
``create_pretraining_data.py``, re-implemented on integer offsets instead of
token lists so it is cheap enough to run again every epoch (streaming) and is
shared by the TFRecord writer:

* Each document is cut greedily into chunks of whole sentences that fill a
  target length (``seq_length - 3``; with ``short_seq_prob`` a shorter
  random target, so the model also sees short inputs).
* A chunk is split at a random sentence boundary into A and B.
  NSP: about half the time B is instead a span of a *different* document
  (label 1 = random, 0 = real next); the chunk's unused tail sentences are put
  back and start the next chunk, so no text is wasted.
  SOP: A and B are swapped half the time (label 1 = swapped). A one-sentence
  chunk is split inside the sentence.
* The pair is truncated to fit, always trimming the longer side, from the front
  or the back at random.

Because a document's tokens are contiguous in ``TokenizedCorpus.ids``, every A
and B is one contiguous span ``(start, length)``; packing turns spans into
token rows with vectorised numpy (see ``pretraining_examples.pack_pairs``).
"""
from dataclasses import dataclass

import numpy as np

from kerasllm.errors import DataError

TASKS = ("nsp", "sop")


@dataclass
class PairPlan:
    """Spans of A and B in ``TokenizedCorpus.ids`` and labels, all ``(N,)``."""

    a_start: np.ndarray
    a_length: np.ndarray
    b_start: np.ndarray
    b_length: np.ndarray
    labels: np.ndarray

    def __len__(self):
        return len(self.labels)

    def take(self, index):
        """A new plan with the rows ``index`` (an int array or slice)."""
        return PairPlan(*(getattr(self, f)[index] for f in _FIELDS))

    @staticmethod
    def concatenate(plans):
        return PairPlan(*(np.concatenate([getattr(p, f) for p in plans]) for f in _FIELDS))


_FIELDS = ("a_start", "a_length", "b_start", "b_length", "labels")


def plan_pairs(corpus, seq_length, short_seq_prob, task, rng):
    """One pass over every document of ``corpus``; returns a ``PairPlan``.

    Args:
        corpus: a ``TokenizedCorpus`` (token ids plus sentence/document splits).
        seq_length: length of ``[CLS] A [SEP] B [SEP]`` rows, >= 5.
        short_seq_prob: probability of a shorter random target length.
        task: ``"nsp"`` (random next document) or ``"sop"`` (swapped order).
        rng: a ``numpy.random.Generator``; same state => same plan.
    """
    if task not in TASKS:
        raise DataError(f"Unknown pair task {task!r}; use one of {', '.join(TASKS)}.")
    if seq_length < 5:
        raise DataError(f"seq_length must be >= 5 to hold [CLS] A [SEP] B [SEP]; received {seq_length}.")
    check_pairable(corpus, task)
    rows = []
    offsets = _Offsets(corpus)
    for doc in range(corpus.num_documents):
        _plan_document(offsets, doc, seq_length - 3, short_seq_prob, task, rng, rows)
    columns = np.array(rows, dtype=np.int64).reshape(-1, 5)
    plan = PairPlan(*(columns[:, i] for i in range(5)))
    _truncate(plan, seq_length - 3, rng)
    return plan


def check_pairable(corpus, task):
    """``DataError`` now (not mid-epoch inside tf.data) if ``corpus`` cannot give ``task`` pairs."""
    if task == "nsp" and corpus.num_documents < 2:
        raise DataError(
            f"Next-sentence prediction needs at least 2 documents (a random B comes from another one); "
            f"received {corpus.num_documents}. Add documents separated by blank lines, or use task 'sop'."
        )


class _Offsets:
    """The corpus splits as Python lists: the planner indexes them one by one,
    which is several times faster on lists than on numpy arrays."""

    def __init__(self, corpus):
        self.sentence_starts = corpus.sentence_starts.tolist()
        self.sentence_lengths = corpus.sentence_lengths.tolist()
        self.document_splits = corpus.document_splits.tolist()
        self.num_documents = corpus.num_documents

    def document_sentences(self, doc):
        return self.document_splits[doc], self.document_splits[doc + 1]


def _plan_document(corpus, doc, max_tokens, short_seq_prob, task, rng, rows):
    """Append ``[a_start, a_len, b_start, b_len, label]`` rows for one document."""
    first, last = corpus.document_sentences(doc)  # sentence index range [first, last)
    starts, lengths = corpus.sentence_starts, corpus.sentence_lengths
    target = max_tokens
    if rng.random() < short_seq_prob:
        target = int(rng.integers(2, max_tokens + 1))
    chunk_first, chunk_tokens = first, 0
    i = first
    while i < last:
        chunk_tokens += lengths[i]
        if i == last - 1 or chunk_tokens >= target:
            n_sentences = i + 1 - chunk_first
            a_sentences = 1 if n_sentences < 2 else int(rng.integers(1, n_sentences))
            a_start = starts[chunk_first]
            a_end = starts[chunk_first + a_sentences - 1] + lengths[chunk_first + a_sentences - 1]
            chunk_end = starts[i] + lengths[i]
            if task == "nsp" and (n_sentences == 1 or rng.random() < 0.5):
                b_start, b_len = _random_span(corpus, doc, target - (a_end - a_start), rng)
                rows.append([a_start, a_end - a_start, b_start, b_len, 1])
                i -= n_sentences - a_sentences  # put the unused sentences back
            elif task == "nsp":
                rows.append([a_start, a_end - a_start, a_end, chunk_end - a_end, 0])
            else:
                _append_sentence_order(rows, a_start, a_end, chunk_end, n_sentences, rng)
            chunk_first, chunk_tokens = i + 1, 0
            if rng.random() < short_seq_prob:
                target = int(rng.integers(2, max_tokens + 1))
            else:
                target = max_tokens
        i += 1


def _append_sentence_order(rows, a_start, a_end, chunk_end, n_sentences, rng):
    """A then B in source order (label 0) or swapped (label 1)."""
    if n_sentences == 1:  # split a lone sentence inside it; needs 2+ tokens
        if chunk_end - a_start < 2:
            return
        a_end = a_start + int(rng.integers(1, chunk_end - a_start))
    first, second = [a_start, a_end - a_start], [a_end, chunk_end - a_end]
    if rng.random() < 0.5:
        rows.append(second + first + [1])
    else:
        rows.append(first + second + [0])


def _random_span(corpus, doc, target_length, rng):
    """Whole sentences of a random other document, from a random sentence on."""
    other = int(rng.integers(0, corpus.num_documents - 1))
    other += other >= doc  # uniform over the other documents
    first, last = corpus.document_sentences(other)
    j = int(rng.integers(first, last))
    start = corpus.sentence_starts[j]
    end = start + corpus.sentence_lengths[j]
    while end - start < max(target_length, 1) and j + 1 < last:
        j += 1
        end = corpus.sentence_starts[j] + corpus.sentence_lengths[j]
    return start, end - start


def _truncate(plan, max_tokens, rng):
    """Trim pairs to ``max_tokens`` in place, like BERT's ``truncate_seq_pair``.

    BERT removes one token at a time from the longer segment (B on ties), from
    the front or back at random; the resulting lengths have a closed form, and
    the number cut from the front is Binomial(removed, 1/2).
    """
    a, b = plan.a_length, plan.b_length
    excess = np.maximum(a + b - max_tokens, 0)
    gap = np.abs(a - b)
    # Trim only the longer side while the gap covers the excess, else meet in the middle.
    new_a = np.where(a > b, a - np.minimum(excess, gap), a)
    new_b = np.where(a <= b, b - np.minimum(excess, gap), b)
    balanced = excess > gap
    new_a = np.where(balanced, (max_tokens + 1) // 2, new_a)
    new_b = np.where(balanced, max_tokens // 2, new_b)
    for start, old, new in ((plan.a_start, a, new_a), (plan.b_start, b, new_b)):
        start += rng.binomial(old - new, 0.5)
    plan.a_length, plan.b_length = new_a, new_b
