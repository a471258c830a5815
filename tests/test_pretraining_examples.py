"""Pair planning (NSP / SOP), packing and masking of BERT pretraining examples."""
import numpy as np
import pytest

from kerasllm.data.masking import VocabularyInfo, mask_batch
from kerasllm.data.pretraining_examples import PretrainingConfig, pack_pairs, plan_dupes
from kerasllm.data.tokenized_corpus import TokenizedCorpus
from kerasllm.errors import DataError
from pretraining_helpers import random_corpus, unique_corpus

SEQ = 32


def _pairs(rows):
    """(A ids, B ids, label) of every packed row."""
    return [_segments(rows, i) + (rows["labels"][i],) for i in range(len(rows["labels"]))]


def _segments(rows, i):
    """(A ids, B ids) of packed row ``i``, checking the [CLS] A [SEP] B [SEP] layout."""
    tokens, segments, real = rows["token_ids"][i], rows["segment_ids"][i], rows["padding_mask"][i]
    n = int(real.sum())
    assert real[:n].all() and not real[n:].any() and (tokens[n:] == 0).all()
    sep = np.flatnonzero(tokens == 3)
    assert tokens[0] == 2 and len(sep) == 2 and sep[1] == n - 1
    assert (segments[: sep[0] + 1] == 0).all() and (segments[sep[0] + 1 : n] == 1).all() and not segments[n:].any()
    return tokens[1 : sep[0]], tokens[sep[0] + 1 : n - 1]


def _packed(task, seed=3, **overrides):
    corpus, vocab, doc_of = unique_corpus()
    config = PretrainingConfig(seq_length=SEQ, dupe_factor=3, task=task, seed=seed, **overrides)
    return corpus, vocab, doc_of, pack_pairs(corpus, plan_dupes(corpus, config), SEQ, vocab)


def test_nsp_pairs_are_real_continuations_or_other_documents():
    corpus, _, doc_of, rows = _packed("nsp")
    assert 0.4 < rows["labels"].mean() < 0.65
    for a, b, label in _pairs(rows):
        assert len(a) >= 1 and len(b) >= 1 and len(a) + len(b) <= SEQ - 3
        # Each segment is one contiguous run of the source text.
        assert (np.diff(a) == 1).all() and (np.diff(b) == 1).all()
        assert len({doc_of[t] for t in a}) == 1 and len({doc_of[t] for t in b}) == 1
        if label == 0:  # B follows A in the same document
            assert doc_of[b[0]] == doc_of[a[0]] and b[0] > a[-1]
        else:
            assert doc_of[b[0]] != doc_of[a[0]]


def test_nsp_puts_unused_sentences_back():
    corpus, vocab, _ = unique_corpus()
    config = PretrainingConfig(seq_length=SEQ, dupe_factor=1, short_seq_prob=0.0)
    rows = pack_pairs(corpus, plan_dupes(corpus, config), SEQ, vocab)
    used = set()
    for a, b, label in _pairs(rows):
        used.update(a.tolist())
        if label == 0:
            used.update(b.tolist())
    # Only truncation loses text: the tail of a random-B chunk starts the next chunk.
    assert len(used) / corpus.num_tokens > 0.9


def test_sop_pairs_are_consecutive_and_swapped_about_half_the_time():
    _, _, doc_of, rows = _packed("sop")
    assert 0.4 < rows["labels"].mean() < 0.6
    for a, b, label in _pairs(rows):
        assert doc_of[a[0]] == doc_of[b[0]]
        first, second = (b, a) if label == 1 else (a, b)
        assert first[-1] < second[0]


def test_same_seed_same_plan_and_different_seed_differs():
    rows_1 = _packed("nsp", seed=1)[3]["token_ids"]
    assert np.array_equal(rows_1, _packed("nsp", seed=1)[3]["token_ids"])
    assert not np.array_equal(rows_1, _packed("nsp", seed=2)[3]["token_ids"])


def test_short_seq_prob_makes_short_rows():
    long_rows = _packed("nsp", short_seq_prob=0.0)[3]["padding_mask"].sum(1)
    short_rows = _packed("nsp", short_seq_prob=1.0)[3]["padding_mask"].sum(1)
    assert short_rows.mean() < long_rows.mean() - 5


def _mask(rows, vocab, wwm=False, predictions=6, seed=(7, 8)):
    out = mask_batch(rows["token_ids"], rows["padding_mask"], vocab, seed, predictions, 0.15, wwm)
    return {k: v.numpy() for k, v in out.items()}


def _selected(rows, masked):
    selected = np.zeros(rows["token_ids"].shape, bool)
    for i, (positions, weights) in enumerate(zip(masked["mask_positions"], masked["mask_weights"])):
        selected[i, positions[weights > 0]] = True
    return selected


def test_masking_statistics_and_specials_never_selected():
    corpus, vocab = random_corpus(num_docs=200)
    config = PretrainingConfig(seq_length=SEQ, dupe_factor=4)
    rows = pack_pairs(corpus, plan_dupes(corpus, config), SEQ, vocab)
    masked = _mask(rows, vocab)
    original, real = rows["token_ids"], rows["padding_mask"].astype(bool)
    selected = _selected(rows, masked)
    n_real = real.sum(1)
    assert np.array_equal(selected.sum(1), np.minimum(6, np.maximum(1, np.round(n_real * 0.15))))
    assert not np.isin(original[selected], [0, 2, 3]).any()  # never [PAD]/[CLS]/[SEP]
    assert np.array_equal(masked["token_ids"][~selected], original[~selected])
    weights = masked["mask_weights"] > 0
    positions = masked["mask_positions"]
    assert np.array_equal(masked["mask_ids"][weights], np.take_along_axis(original, positions, 1)[weights])
    assert (positions[~weights] == 0).all() and (masked["mask_ids"][~weights] == 0).all()
    assert all((np.diff(p[w]) > 0).all() for p, w in zip(positions, weights))
    new = masked["token_ids"][selected]
    total = selected.sum()
    assert total > 3000
    as_mask, kept = np.mean(new == vocab.mask_id), np.mean(new == original[selected])
    assert abs(as_mask - 0.8) < 0.03 and abs(kept - 0.1) < 0.03 and abs(1 - as_mask - kept - 0.1) < 0.03
    # Over the whole set, about masked_lm_prob of the real tokens are predicted.
    assert 0.12 < selected.sum() / real.sum() < 0.17


def test_masks_depend_only_on_the_seed():
    corpus, vocab = random_corpus()
    rows = pack_pairs(corpus, plan_dupes(corpus, PretrainingConfig(seq_length=SEQ, dupe_factor=1)), SEQ, vocab)
    first, again, other = _mask(rows, vocab), _mask(rows, vocab), _mask(rows, vocab, seed=(7, 9))
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not np.array_equal(first["mask_positions"], other["mask_positions"])


def test_whole_word_masking_masks_whole_words():
    corpus, vocab = random_corpus(num_docs=100)
    rows = pack_pairs(corpus, plan_dupes(corpus, PretrainingConfig(seq_length=SEQ, dupe_factor=2)), SEQ, vocab)
    masked = _mask(rows, vocab, wwm=True)
    selected = _selected(rows, masked)
    piece = vocab.is_continuation[rows["token_ids"]]  # (N, T) "##" pieces
    real_word = rows["padding_mask"].astype(bool) & ~np.isin(rows["token_ids"], [0, 2, 3])
    joins_previous = piece[:, 1:] & real_word[:, :-1] & real_word[:, 1:]  # piece t+1 belongs to token t's word
    assert np.array_equal(selected[:, 1:][joins_previous], selected[:, :-1][joins_previous])
    assert (selected & piece).sum() > 100  # multi-piece words really were masked
    assert (selected.sum(1) <= 6).all() and 0.1 < selected.sum() / real_word.sum() < 0.2


def test_bad_inputs_raise_one_line_errors():
    corpus, vocab, _ = unique_corpus(num_docs=1)
    with pytest.raises(DataError, match="at least 2 documents"):
        plan_dupes(corpus, PretrainingConfig(seq_length=SEQ))
    with pytest.raises(DataError, match="key 'masked_lm_prob'"):
        PretrainingConfig(masked_lm_prob=1.5).validate()
    with pytest.raises(DataError, match=r"lacks special token\(s\) \[MASK\]"):
        VocabularyInfo.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
    with pytest.raises(DataError, match="no non-empty documents"):
        TokenizedCorpus.from_id_documents([[[], []], []])
