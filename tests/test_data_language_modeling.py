"""LM windows: next-token targets and Zaremba lane order for stateful truncated BPTT."""
import numpy as np
import pytest

from kerasllm.data.language_modeling import corpus_token_stream, lm_dataset, stateful_batches, token_stream
from kerasllm.data.word_tokenizer import WordTokenizer, learn_word_vocabulary
from kerasllm.errors import DataError


def test_windows_have_shifted_targets_and_cover_the_stream():
    stream = np.arange(1, 42, dtype=np.int32)  # 41 tokens -> 10 windows of 4
    batches = list(lm_dataset(stream, seq_length=4, batch_size=3, shuffle=True, seed=1, drop_remainder=False))
    xs = np.concatenate([x.numpy() for x, _ in batches])
    ys = np.concatenate([y.numpy() for _, y in batches])
    assert xs.shape == (10, 4) and xs.dtype == np.int32
    np.testing.assert_array_equal(ys, xs + 1)  # the stream is 1, 2, 3, ...: target = next token
    assert sorted(xs[:, 0].tolist()) == list(range(1, 41, 4))  # every window exactly once
    assert [len(x) for x, _ in lm_dataset(stream, 4, 3, shuffle=False)] == [3, 3, 3]  # remainder dropped


def test_stateful_lanes_continue_across_batches():
    stream = np.arange(103, dtype=np.int32)
    x, y = stateful_batches(stream, seq_length=5, batch_size=4)
    assert x.shape == (4, 4, 5)  # 25 tokens per lane -> (25 - 1) // 5 = 4 batches
    for k in range(len(x) - 1):
        np.testing.assert_array_equal(x[k + 1][:, 0], x[k][:, -1] + 1)  # lane b picks up where it stopped
    np.testing.assert_array_equal(x[0][:, 0], [0, 25, 50, 75])
    np.testing.assert_array_equal(y, x + 1)
    ds = list(lm_dataset(stream, 5, 4, stateful=True))
    assert len(ds) == 4 and all(b[0].shape == (4, 5) for b in ds)
    np.testing.assert_array_equal(ds[1][0].numpy(), x[1])


def test_word_stream_appends_eos_per_line(tmp_path):
    corpus = tmp_path / "ptb.txt"
    corpus.write_text("the cat sat\nthe dog\n\nnew doc\n", encoding="utf-8")
    tok = WordTokenizer(learn_word_vocabulary(["the cat sat", "the dog"], 6))
    stream = corpus_token_stream(tok, str(corpus))
    assert tok.detokenize(stream) == "the cat sat <eos> the dog <eos> <unk> <unk> <eos>"
    assert token_stream(tok, []).shape == (0,)


def test_too_short_stream_is_a_clear_error():
    with pytest.raises(DataError, match="has 10 tokens but batch_size 4 x seq_length 5 needs at least 24"):
        lm_dataset(np.arange(10), 5, 4, stateful=True)
    with pytest.raises(DataError, match="has 10 tokens"):
        lm_dataset(np.arange(10), 5, 4)
