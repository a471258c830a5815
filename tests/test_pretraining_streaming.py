"""Streaming pretraining batches: format, reproducibility, a new mask every epoch."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from kerasllm.data.masking import VocabularyInfo
from kerasllm.data.tokenized_corpus import TokenizedCorpus
from kerasllm.data.pretraining_examples import PretrainingConfig
from kerasllm.data.streaming import streaming_pretraining_dataset
from kerasllm.errors import DataError
from pretraining_helpers import random_corpus, vocabulary

CONFIG = PretrainingConfig(seq_length=24, max_predictions=4, seed=11)


def _epoch(dataset):
    return [tuple(tf.nest.map_structure(lambda t: t.numpy(), element)) for element in dataset]


def test_mlm_nsp_batches_have_the_training_format():
    corpus, vocab = random_corpus()
    batches = _epoch(streaming_pretraining_dataset(corpus, vocab, 8, config=CONFIG))
    x, y, weights = batches[0]
    assert sorted(x) == ["mask_positions", "padding_mask", "segment_ids", "token_ids"]
    assert x["token_ids"].shape == (8, 24) and x["token_ids"].dtype == np.int32
    assert y["mlm"].shape == weights["mlm"].shape == (8, 4) and y["nsp"].shape == (8,)
    tokens = np.concatenate([b[0]["token_ids"] for b in batches])
    labels = np.concatenate([b[1]["nsp"] for b in batches])
    assert (tokens[:, 0] == vocab.cls_id).all() and (tokens == vocab.mask_id).sum() > len(tokens)
    assert 0.35 < labels.mean() < 0.75
    # Every masked slot names a real, non-special position, and mask_ids are what was there.
    w = weights["mlm"] > 0
    assert w.sum(1).min() >= 1 and (x["mask_positions"][w] > 0).all()


def test_each_epoch_has_new_pairs_and_new_masks_but_runs_repeat():
    corpus, vocab = random_corpus()
    dataset = streaming_pretraining_dataset(corpus, vocab, 8, config=CONFIG)
    epoch_1, epoch_2 = _epoch(dataset), _epoch(dataset)
    assert not np.array_equal(epoch_1[0][0]["token_ids"], epoch_2[0][0]["token_ids"])
    assert not np.array_equal(epoch_1[0][0]["mask_positions"], epoch_2[0][0]["mask_positions"])
    again = _epoch(streaming_pretraining_dataset(corpus, vocab, 8, config=CONFIG))  # same seed, new dataset
    assert all(np.array_equal(a[0]["token_ids"], b[0]["token_ids"]) for a, b in zip(epoch_1, again))


def test_dynamic_masking_gives_the_same_rows_new_masks_every_epoch():
    """Two-sentence documents make the same (A, B) rows come back every epoch
    (only the SOP swap and the order change); their masks must not."""
    docs = [[list(range(5 + 16 * d, 13 + 16 * d)), list(range(13 + 16 * d, 21 + 16 * d))] for d in range(40)]
    corpus = TokenizedCorpus.from_id_documents(docs)
    vocab = VocabularyInfo.from_tokens(vocabulary(16 * 40 + 5))
    config = dataclasses.replace(CONFIG, short_seq_prob=0.0)
    dataset = streaming_pretraining_dataset(corpus, vocab, 8, task="mlm+sop", config=config)
    masks_1, masks_2 = _masks_by_row(dataset), _masks_by_row(dataset)
    common = set(masks_1) & set(masks_2)
    assert len(common) > 10
    assert sum(masks_1[row] != masks_2[row] for row in common) > 0.7 * len(common)


def _masks_by_row(dataset):
    """{unmasked row as a tuple: masked positions as a tuple} over one epoch."""
    out = {}
    for x, y, weights in _epoch(dataset):
        for row in range(len(x["token_ids"])):
            keep = weights["mlm"][row] > 0
            tokens = x["token_ids"][row].copy()
            tokens[x["mask_positions"][row][keep]] = y["mlm"][row][keep]
            out[tuple(tokens)] = tuple(x["mask_positions"][row][keep])
    return out


def test_nsp_and_sop_batches_are_unmasked():
    corpus, vocab = random_corpus()
    for task in ("nsp", "sop"):
        x, labels = _epoch(streaming_pretraining_dataset(corpus, vocab, 16, task=task, config=CONFIG))[0]
        assert sorted(x) == ["padding_mask", "segment_ids", "token_ids"] and labels.shape == (16,)
        assert not (x["token_ids"] == vocab.mask_id).any()


def test_a_one_document_corpus_fails_before_iteration_for_nsp():
    corpus = TokenizedCorpus.from_id_documents([[[5, 6, 7], [8, 9]]])
    vocab = VocabularyInfo.from_tokens(vocabulary(10))
    with pytest.raises(DataError, match="at least 2 documents"):
        streaming_pretraining_dataset(corpus, vocab, 4)
    x, labels = _epoch(streaming_pretraining_dataset(corpus, vocab, 4, task="sop", config=CONFIG))[0]
    assert x["token_ids"].shape == (1, 24) and labels.shape == (1,)
