"""Words -> packed BERT windows for token tagging, and window predictions -> word tags.

Each word is tokenized on its own into WordPieces (a CoNLL word such as
"U.S." may give several BERT words; all their pieces belong to it). The
word's tag goes on its first piece with sample weight 1; later pieces,
[CLS] / [SEP] and padding get weight 0, so the loss and the metrics see each
word exactly once (no magic "ignore" tag id). A sentence longer than
``seq_length - 2`` pieces is split into consecutive windows, not cut: a word
goes to window ``c // budget``, where ``c`` is the number of pieces before it
in the sentence and ``budget = seq_length - 2``. Every word is in exactly one
window and labelled there; only a word that starts near a window's end loses
its pieces past that end (its first piece, which carries the tag, always
fits). The rule needs no sequential packing, so the TF Serving signature
(``kerasllm.export.entity_signature``) computes the same windows in a few
vectorised ops, and the spans it returns equal ``kerasllm predict``'s.
"""
import dataclasses

import numpy as np

from kerasllm.errors import DataError, location


@dataclasses.dataclass
class TagWindows:
    """Packed windows: ``x`` (N, T) int32 inputs; ``tag_ids`` / ``weights`` (N, T);
    ``sentence`` (N,) the sentence each window came from; ``word`` (N, T) the word
    index within that sentence at first pieces, -1 elsewhere."""

    x: dict
    tag_ids: np.ndarray
    weights: np.ndarray
    sentence: np.ndarray
    word: np.ndarray

    def __len__(self):
        return len(self.sentence)


def word_pieces(tokenizer, sentences):
    """Per sentence, per word, the list of WordPiece ids (one tokenizer call for all words)."""
    flat = [w for words in sentences for w in words]
    pieces = tokenizer.tokenize(flat).to_list() if flat else []
    out, i = [], 0
    for words in sentences:
        out.append([[int(p) for p in ids] for ids in pieces[i:i + len(words)]])
        i += len(words)
    return out


def _windows_of(pieces, budget):
    """Per window of one sentence: ``[(word, first piece position, pieces kept)]``."""
    windows, before = {}, 0
    for w, ids in enumerate(pieces):
        if ids:
            k, position = divmod(before, budget)
            windows.setdefault(k, []).append((w, position, min(len(ids), budget - position)))
        before += len(ids)
    return [windows[k] for k in sorted(windows)] or [[]]  # an empty sentence: [CLS] [SEP]


def encode_tag_ids(data, names):
    """Tag strings -> per-sentence id lists; a tag unseen in training names file:line."""
    index = {name: i for i, name in enumerate(names)}
    out = []
    for tags, line in zip(data.tags, data.lines):
        unknown = [t for t in tags if t not in index]
        if unknown:
            raise DataError(f"{location(data.path, line)}: tag '{unknown[0]}' (in the sentence "
                            f"starting here) was not in the training tags ({', '.join(names)}).")
        out.append([index[t] for t in tags])
    return out


def encode_windows(tokenizer, sentences, seq_length, tag_ids=None):
    """Pack ``sentences`` (lists of words) into ``TagWindows`` of ``seq_length`` tokens."""
    if seq_length < 3:
        raise DataError(f"seq_length {seq_length} leaves no room for words after [CLS] and "
                        f"[SEP]; use a larger --seq-length.")
    budget = seq_length - 2
    rows = []  # (sentence, token ids, tags, weights, word indices)
    for s, pieces in enumerate(word_pieces(tokenizer, sentences)):
        for window in _windows_of(pieces, budget):
            ids, tags, weights, words = [tokenizer.cls_id], [0], [0.0], [-1]
            for w, _, kept in window:
                tag = tag_ids[s][w] if tag_ids is not None else 0
                ids += pieces[w][:kept]
                tags += [tag] * kept
                weights += [1.0] + [0.0] * (kept - 1)
                words += [w] + [-1] * (kept - 1)
            ids.append(tokenizer.sep_id)
            rows.append((s, ids, tags + [0], weights + [0.0], words + [-1]))
    n = len(rows)
    token_ids = np.full((n, seq_length), tokenizer.pad_id, np.int32)
    padding = np.zeros((n, seq_length), np.int32)
    tag_array = np.zeros((n, seq_length), np.int32)
    weight_array = np.zeros((n, seq_length), np.float32)
    word_array = np.full((n, seq_length), -1, np.int32)
    for r, (_, ids, tags, weights, words) in enumerate(rows):
        k = len(ids)
        token_ids[r, :k], padding[r, :k], tag_array[r, :k] = ids, 1, tags
        weight_array[r, :k], word_array[r, :k] = weights, words
    x = {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": padding}
    return TagWindows(x, tag_array, weight_array, np.array([r[0] for r in rows], np.int64),
                      word_array)


def word_predictions(windows, probabilities, sentence_lengths, outside=0):
    """Per sentence, per word, ``(tag id, probability)`` read at each word's first piece.

    ``probabilities``: (N, T', C) for the windows (T' <= T: batches may be cut to
    their longest row). A word with no pieces (only characters BERT deletes) gets
    tag id ``outside`` (``O``) with probability 1.
    """
    out = [[(outside, 1.0)] * length for length in sentence_lengths]
    best = probabilities.argmax(-1)
    for r in range(len(windows)):
        cols = np.flatnonzero(windows.word[r, :probabilities.shape[1]] >= 0)
        sentence = out[windows.sentence[r]]
        for c in cols:
            tag = int(best[r, c])
            sentence[windows.word[r, c]] = (tag, float(probabilities[r, c, tag]))
    return out
