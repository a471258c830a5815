"""Question + context -> packed BERT windows with answer positions, and back to text.

``[CLS] question [SEP] context window [SEP]``: the question keeps its first
``max_query_length`` pieces (at most half the window); a long context becomes overlapping windows that
start every ``doc_stride`` pieces (BERT's run_squad). The context is split
into BERT's words with character offsets (``kerasllm.data.word_offsets``) and
each word tokenized on its own, so every context token maps back to a word and
its characters. An answer's characters give its first and last word, hence its
first and last token; in a window that does not hold the whole answer (and for
v2.0 impossible questions) both positions are 0, the [CLS].
"""
import dataclasses

import numpy as np

from kerasllm.data.tag_windows import word_pieces
from kerasllm.data.word_offsets import split_words


@dataclasses.dataclass
class QAWindows:
    """``x`` (N, T) int32 inputs; ``start`` / ``end`` (N,) answer token positions;
    ``example`` (N,) the example of each window; ``word`` (N, T) the context word of
    each token (-1 off the context); ``words[e]`` the (start, end) characters of the
    words of example e's context."""

    x: dict
    start: np.ndarray
    end: np.ndarray
    example: np.ndarray
    word: np.ndarray
    words: list

    def __len__(self):
        return len(self.example)


def _answer_words(words, answer):
    """First and last context word of the answer ``(text, character start)``."""
    text, start = answer
    end = start + len(text)
    inside = [i for i, (_, a, b) in enumerate(words) if a < end and b > start]
    return (inside[0], inside[-1]) if inside else (None, None)


def query_budget(seq_length, max_query_length):
    """Question pieces kept: ``max_query_length``, but never more than half the window, so
    the context always has room (a 100,000-character question is no error)."""
    return min(int(max_query_length), (int(seq_length) - 3) // 2)


def encode_qa(tokenizer, examples, seq_length, doc_stride=128, max_query_length=64):
    """Pack ``examples`` (``QAExample``) into ``QAWindows``."""
    splits = [split_words(e.context) for e in examples]
    questions = word_pieces(tokenizer, [[e.question] for e in examples])
    contexts = word_pieces(tokenizer, [[w for w, _, _ in words] for words in splits])
    rows = []
    for e, (example, words) in enumerate(zip(examples, splits)):
        query = questions[e][0][:query_budget(seq_length, max_query_length)]
        pieces = [(p, w) for w, ids in enumerate(contexts[e]) for p in ids]  # (id, word)
        first_token = {}
        for t, (_, w) in enumerate(pieces):
            first_token.setdefault(w, t)
        last_token = {w: t for t, (_, w) in enumerate(pieces)}
        answer = (None, None)
        if example.answers and not example.impossible:
            a, b = _answer_words(words, example.answers[0])
            if a is not None and a in first_token and b in last_token:
                answer = (first_token[a], last_token[b])
        room = seq_length - len(query) - 3
        start = 0
        while True:
            window = pieces[start:start + room]
            offset = len(query) + 2 - start
            inside = answer[0] is not None and start <= answer[0] and answer[1] < start + room
            span = (answer[0] + offset, answer[1] + offset) if inside else (0, 0)
            rows.append((e, query, window, span))
            if start + room >= len(pieces):
                break
            start += min(doc_stride, room)
    n = len(rows)
    ids = np.full((n, seq_length), tokenizer.pad_id, np.int32)
    segments, padding = np.zeros_like(ids), np.zeros_like(ids)
    word = np.full((n, seq_length), -1, np.int32)
    for r, (_, query, window, _) in enumerate(rows):
        row = [tokenizer.cls_id, *query, tokenizer.sep_id, *[p for p, _ in window], tokenizer.sep_id]
        ids[r, :len(row)], padding[r, :len(row)] = row, 1
        segments[r, len(query) + 2:len(row)] = 1
        word[r, len(query) + 2:len(row) - 1] = [w for _, w in window]
    x = {"token_ids": ids, "segment_ids": segments, "padding_mask": padding}
    return QAWindows(x, np.array([r[3][0] for r in rows], np.int32),
                     np.array([r[3][1] for r in rows], np.int32),
                     np.array([r[0] for r in rows], np.int64), word,
                     [[(a, b) for _, a, b in words] for words in splits])
