"""Id-for-id parity of WordPieceTokenizer with Hugging Face tokenizers' BertWordPieceTokenizer.

Vocabularies are learned (by HF's trainer, and by ours) from BBC News training
articles plus hand-written multilingual / emoji / accent / digit sentences, so
they hold CJK characters, accented pieces and symbols. The bar is >= 99.9 %
of sentences with identical ids; the measured rate is printed (pytest -s).
"""
import pytest
from tokenizers import BertWordPieceTokenizer

from data_multilingual import MULTILINGUAL_SENTENCES
from kerasllm.data.datasets import bbc_news
from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.data.vocab import learn_vocabulary, write_vocabulary


@pytest.fixture(scope="module")
def bbc_lines():
    return [line for doc in bbc_news("train") for line in doc.lines]


def _agreement(ours, vocab_file, lowercase, sentences):
    hf = BertWordPieceTokenizer(vocab_file, lowercase=lowercase)
    expected = [e.ids for e in hf.encode_batch(sentences, add_special_tokens=False)]
    got = ours.tokenize(sentences).to_list()
    mismatches = [(s, g, e) for s, g, e in zip(sentences, got, expected) if g != e]
    return 1 - len(mismatches) / len(sentences), mismatches[:3]


@pytest.mark.slow
@pytest.mark.parametrize("lowercase", [True, False], ids=["uncased", "cased"])
def test_parity_with_hf_on_bbc_and_multilingual(tmp_path, bbc_lines, lowercase):
    trainer = BertWordPieceTokenizer(lowercase=lowercase)
    trainer.train_from_iterator(bbc_lines[::4] + MULTILINGUAL_SENTENCES * 20, vocab_size=3000,
                                limit_alphabet=2000)
    trainer.save_model(str(tmp_path), "bbc")
    vocab_file = str(tmp_path / "bbc-vocab.txt")
    vocab = open(vocab_file, encoding="utf-8").read().split("\n")
    assert {"東", "京", "😀"} <= set(vocab) and (lowercase or "é" in vocab)
    ours = WordPieceTokenizer(vocab_file, lowercase=lowercase, strip_accents=lowercase)

    real_rate, real_bad = _agreement(ours, vocab_file, lowercase, bbc_lines[::2])
    hard_rate, hard_bad = _agreement(ours, vocab_file, lowercase, MULTILINGUAL_SENTENCES)
    print(f"\nHF parity ({'uncased' if lowercase else 'cased'}): BBC {real_rate:.4%} of "
          f"{len(bbc_lines[::2])} lines, multilingual {hard_rate:.2%} of {len(MULTILINGUAL_SENTENCES)}")
    assert real_rate >= 0.999, real_bad
    assert hard_rate >= 0.95, hard_bad  # the hard list is tiny; each miss costs 1.7 %
    # Not vacuous: the vocabulary really splits words and knows CJK / accented text.
    ids = ours.tokenize("東京 Zürich unbelievably").numpy().tolist()
    assert ours.unk_id not in ids[:2] and len(ids) >= 4


def test_parity_with_our_learned_vocabulary(tmp_path, bbc_lines):
    lines = bbc_lines[:300] + MULTILINGUAL_SENTENCES * 10
    vocab_file = write_vocabulary(learn_vocabulary(lines, 800), tmp_path / "vocab.txt")
    ours = WordPieceTokenizer(vocab_file)
    rate, bad = _agreement(ours, vocab_file, True, bbc_lines[300:3300] + MULTILINGUAL_SENTENCES)
    print(f"\nHF parity (our learned vocab): {rate:.4%}")
    assert rate >= 0.999, bad
