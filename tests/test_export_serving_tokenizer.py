"""The core-op serving tokenizer gives the training tokenizer's ids and never fails on bad input."""
import numpy as np
import pytest
import tensorflow as tf

from kerasllm.data import WordPieceTokenizer, pack_inputs, trim_to_longest
from kerasllm.export.serving_packer import pack_ids
from kerasllm.export.serving_tokenizer import ServingWordPiece
from export_fixtures import EXTRA_TEXTS, bbc_sentences, wordpiece_vocabulary


@pytest.fixture(scope="module")
def tokenizers():
    sentences = bbc_sentences()
    vocab = wordpiece_vocabulary(sentences[:2000] + EXTRA_TEXTS)
    serving = ServingWordPiece(vocab, lowercase=True, strip_accents=True)
    return WordPieceTokenizer(vocab), serving, tf.function(lambda t: serving(t, 10**6)), sentences


def _agreement(training, serving_fn, texts, batch=512):
    mismatches = []
    for i in range(0, len(texts), batch):
        chunk = texts[i:i + batch]
        want = training.tokenize(tf.constant(chunk)).to_list()
        got = serving_fn(tf.constant(chunk)).to_list()
        mismatches += [(t, w, g) for t, w, g in zip(chunk, want, got) if w != g]
    return mismatches


def test_special_unicode_texts_match_training_tokenizer(tokenizers):
    training, serving, serving_fn, _ = tokenizers
    assert _agreement(training, serving_fn, EXTRA_TEXTS) == []
    ids = serving_fn(tf.constant(["Café 北京 😀 [MASK] 12"])).to_list()[0]
    tokens = [training.id_to_token(i) for i in ids]
    assert training.detokenize(np.array(ids)).startswith("cafe 北 京 ")
    assert "[MASK]" in tokens and tokens[-1] in ("12", "##2")


@pytest.mark.slow
def test_bbc_corpus_ids_match_training_tokenizer(tokenizers):
    training, _, serving_fn, sentences = tokenizers
    mismatches = _agreement(training, serving_fn, sentences)
    assert len(sentences) > 10000
    assert len(mismatches) / len(sentences) <= 0.001, mismatches[:3]


ASCII_EDGE_TEXTS = ["plain words only", "ctrl\x00in\x01side [MA\x01SK] [MASK]\x7f",
                    "tab\tnew\nline\rcr\x0bvt\x0cff", "[CLS]x[SEP] [UNK]", "   ", "a" * 120]


def test_every_branch_alone_and_mixed_matches_training_tokenizer(tokenizers):
    """Batches of one take the cheap paths (no transcode / clean-up / accents) a mixed batch skips."""
    training, _, serving_fn, sentences = tokenizers
    texts = ASCII_EDGE_TEXTS + EXTRA_TEXTS + sentences[:5]
    for text in texts:
        assert _agreement(training, serving_fn, [text]) == [], text
    assert _agreement(training, serving_fn, texts) == []
    assert _agreement(training, serving_fn, ASCII_EDGE_TEXTS) == []


def test_skipped_clean_up_stays_a_functional_if(tokenizers):
    """Lowered to Switch / Merge, the skipped clean-up would still cost every ASCII request."""
    serving = tokenizers[1]
    graph = tf.function(lambda t: serving(t, 8)).get_concrete_function(
        tf.TensorSpec([None], tf.string)).graph
    conds = [op for op in graph.get_operations() if op.type in ("If", "StatelessIf")]
    assert conds and not any(op.get_attr("_lower_using_switch_merge") for op in conds)


@pytest.mark.parametrize("most", [1, 2, 3, 4])
def test_truncation_at_every_word_boundary(tokenizers, most):
    """Only the first ``most`` words are split off; the rest of the text must not leak in."""
    training, serving, _, _ = tokenizers
    texts = ["the cat", "the cat sat", " the  cat  sat on ", "unbelievably long words", ""]
    want = [ids[:most] for ids in training.tokenize(tf.constant(texts)).to_list()]
    assert serving(tf.constant(texts), most).to_list() == want


def test_bad_input_gives_defined_output(tokenizers):
    training, serving, _, _ = tokenizers
    texts = tf.constant(["", "word " * 20000, b"caf\xc3 \xff\xfe the", "fine text", "\x00\x01"])
    ids = serving(texts, 16).to_list()
    assert ids[0] == [] and ids[4] == []
    assert ids[1] == (training.tokenize(["word"]).to_list()[0] * 16)[:16]  # truncated
    assert ids[2][-1] == training.token_to_id("the")  # invalid bytes replaced, rest kept
    assert ids[3] == training.tokenize(["fine text"]).to_list()[0]


@pytest.mark.parametrize("len_a,len_b", [(3, 2), (20, 2), (2, 20), (20, 20), (0, 30), (7, 8),
                                         (0, 0)])
def test_pair_packing_matches_training_packer(tokenizers, len_a, len_b):
    training = tokenizers[0]
    a = tf.ragged.constant([list(range(10, 10 + len_a))], dtype=tf.int32)
    b = tf.ragged.constant([list(range(50, 50 + len_b))], dtype=tf.int32)
    want = trim_to_longest(pack_inputs(training, a, b, seq_length=16))  # dynamic padding
    got = pack_ids(a, b, 16, training.cls_id, training.sep_id, training.pad_id)
    for key in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(got[key].numpy(), want[key].numpy(), err_msg=key)
    single = pack_ids(a, None, 16, training.cls_id, training.sep_id, training.pad_id)
    np.testing.assert_array_equal(
        single["token_ids"].numpy(),
        trim_to_longest(pack_inputs(training, a, None, 16))["token_ids"].numpy())


def test_vocabulary_without_continuation_pieces():
    # Whole-word vocabularies (no "##" tokens) once crashed the export: empty lookup table.
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "the", "cat", "sat"]
    serving = ServingWordPiece(vocab, lowercase=True, strip_accents=True)
    texts = ["The cat sat.", "the cats sat", ""]
    assert serving(tf.constant(texts), 10**6).to_list() == \
        WordPieceTokenizer(vocab).tokenize(tf.constant(texts)).to_list()
