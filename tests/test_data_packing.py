"""pack_inputs: exact [CLS] A [SEP] B [SEP] layout and BERT's longest-first truncation."""
import itertools

import numpy as np
import pytest

from kerasllm.data.packing import pack_inputs, trim_to_longest
from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.errors import DataError

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(40)]
CLS, SEP = 2, 3


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer(VOCAB)


def truncate_seq_pair(a, b, max_length):
    """google-research/bert run_classifier._truncate_seq_pair, on copies."""
    a, b = list(a), list(b)
    while len(a) + len(b) > max_length:
        (a if len(a) > len(b) else b).pop()
    return a, b


def test_pair_layout_exact(tok):
    out = pack_inputs(tok, [[10, 11, 12]], [[20, 21]], seq_length=10)
    assert {k: v.numpy().tolist() for k, v in out.items()} == {
        "token_ids": [[CLS, 10, 11, 12, SEP, 20, 21, SEP, 0, 0]],
        "segment_ids": [[0, 0, 0, 0, 0, 1, 1, 1, 0, 0]],
        "padding_mask": [[1, 1, 1, 1, 1, 1, 1, 1, 0, 0]],
    }
    assert all(v.dtype == "int32" for v in out.values())


def test_single_segment_and_1d_input(tok):
    out = pack_inputs(tok, np.array([7, 8]), seq_length=6)
    assert out["token_ids"].numpy().tolist() == [[CLS, 7, 8, SEP, 0, 0]]
    assert out["segment_ids"].numpy().sum() == 0
    assert out["padding_mask"].numpy().tolist() == [[1, 1, 1, 1, 0, 0]]


def test_truncation_matches_bert_truncate_seq_pair(tok):
    seq_length = 9  # room for 6 content tokens
    for len_a, len_b in itertools.product(range(0, 9), range(0, 9)):
        a, b = list(range(5, 5 + len_a)), list(range(20, 20 + len_b))
        want_a, want_b = truncate_seq_pair(a, b, seq_length - 3)
        want = [CLS] + want_a + [SEP] + want_b + [SEP]
        want += [0] * (seq_length - len(want))
        got = pack_inputs(tok, [a], [b], seq_length=seq_length)
        assert got["token_ids"].numpy()[0].tolist() == want, (len_a, len_b)
        assert got["padding_mask"].numpy()[0].sum() == len(want_a) + len(want_b) + 3


def test_batch_of_ragged_rows_and_dynamic_padding(tok):
    a = tok.tokenize(["w1 w2 w3", "w4"])
    out = trim_to_longest(pack_inputs(tok, a, seq_length=16))
    assert out["token_ids"].numpy().tolist() == [[CLS, 6, 7, 8, SEP], [CLS, 9, SEP, 0, 0]]
    assert out["padding_mask"].shape == (2, 5)


def test_seq_length_too_small_is_clear(tok):
    with pytest.raises(DataError, match="seq_length 3 leaves no room"):
        pack_inputs(tok, [[5]], [[6]], seq_length=3)
