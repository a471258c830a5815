"""WordPieceTokenizer / WordTokenizer behaviour, errors, vocab learning and the `kerasllm vocab` command."""
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.data import load_tokenizer
from kerasllm.data.tokenizer import WordPieceTokenizer
from kerasllm.data.vocab import learn_vocabulary
from kerasllm.data.word_tokenizer import WordTokenizer, build_word_vocabulary, learn_word_vocabulary
from kerasllm.errors import DataError

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "qu", "##ick", "br", "##own", "fox", ".",
         ",", "cafe", "東", "京", "un", "##believ", "##able", "!", "ß"]


@pytest.fixture
def vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return str(path)


def test_tokenize_exact_ids_and_shapes(vocab_file):
    tok = WordPieceTokenizer(vocab_file)
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id, tok.mask_id) == (0, 1, 2, 3, 4)
    assert tok.vocabulary_size == len(VOCAB) and tok.vocabulary == VOCAB
    ids = tok.tokenize(["The quick brown fox.", "Unbelievable, CAFÉ 東京!", ""])
    assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
    assert ids.to_list() == [[5, 6, 7, 8, 9, 10, 11], [16, 17, 18, 12, 13, 14, 15, 19], []]
    single = tok.tokenize("the fox")
    assert isinstance(single, tf.Tensor) and single.numpy().tolist() == [5, 10]


def test_bert_normalisation_details(vocab_file):
    tok = WordPieceTokenizer(vocab_file)
    # soft hyphen / zero-width space are deleted (one word), no-break space splits, ß is not case-folded to ss
    assert tok.tokenize("qu\u00adick br\u200bown the\u00a0fox ß").numpy().tolist() == [6, 7, 8, 9, 5, 10, 20]
    assert tok.tokenize("x" * 101).numpy().tolist() == [1]  # > 100 characters -> [UNK]
    # NUL is deleted like other control characters (tf-text's regex_split would stop at it)
    assert tok.tokenize("qu\x00ick the [MASK]\x00 fox").numpy().tolist() == [6, 7, 5, 4, 10]
    assert tok.tokenize("the [MASK] fox [SEP]").numpy().tolist() == [5, 4, 10, 3]  # special tokens kept whole


def test_cased_tokenizer_keeps_case_and_accents(vocab_file):
    tok = WordPieceTokenizer(vocab_file, lowercase=False, strip_accents=False)
    assert tok.tokenize("The the café cafe").numpy().tolist() == [1, 5, 1, 13]


def test_detokenize_python_and_tensor(vocab_file):
    tok = WordPieceTokenizer(vocab_file)
    ids = tok.tokenize(["The quick brown fox.", "unbelievable!"])
    assert tok.detokenize(ids.to_list()) == ["the quick brown fox .", "unbelievable !"]
    assert tok.detokenize(np.array([5, 6, 7, 0, 0])) == "the quick"  # [PAD] dropped
    assert tok.detokenize(ids).numpy().tolist() == [b"the quick brown fox .", b"unbelievable !"]
    assert tok.id_to_token(7) == "##ick" and tok.token_to_id("fox") == 10


def test_tokenize_inside_tf_data(vocab_file):
    tok = WordPieceTokenizer(vocab_file)
    ds = tf.data.Dataset.from_tensor_slices(["the fox", "quick"]).batch(2).map(tok.tokenize)
    assert next(iter(ds)).to_list() == [[5, 10], [6, 7]]


def test_vocabulary_errors_are_one_line(tmp_path):
    with pytest.raises(DataError, match="Vocabulary file '.*nope.txt' not found"):
        WordPieceTokenizer(str(tmp_path / "nope.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("[PAD]\n[UNK]\nfoo\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.txt: vocabulary lacks special token\(s\) \[CLS\], \[SEP\], \[MASK\]"):
        WordPieceTokenizer(str(bad))
    dup = tmp_path / "dup.txt"
    dup.write_text("\n".join(VOCAB + ["fox"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"dup\.txt:{len(VOCAB) + 1}: token 'fox' repeats line 11"):
        WordPieceTokenizer(str(dup))
    tok = WordPieceTokenizer(VOCAB)
    with pytest.raises(DataError, match="not in the vocabulary"):
        tok.token_to_id("zebra")


@pytest.mark.parametrize("learner", ["tokenizers", "keras-hub"])
def test_learned_vocabulary_layout_and_coverage(learner):
    lines = ["The unbelievable fox jumps over the lazy dog."] * 20 + ["Café au lait, 東京."] * 12
    vocab = learn_vocabulary(lines, 60, learner=learner)
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert len(vocab) <= 60 and len(set(vocab)) == len(vocab)
    tok = WordPieceTokenizer(vocab)
    ids = tok.tokenize(lines[0]).numpy()
    assert tok.unk_id not in ids and tok.detokenize(ids) == "the unbelievable fox jumps over the lazy dog ."
    with pytest.raises(DataError, match="too small"):
        learn_vocabulary(lines, 3, learner=learner)
    with pytest.raises(DataError, match="Unknown vocabulary learner"):
        learn_vocabulary(lines, 60, learner="sentencepiece")


def test_vocab_command_writes_vocab_and_summary(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("Hello world.\nThe cat sat.\n\nAnother document with words.\n" * 12, encoding="utf-8")
    out = tmp_path / "vocab.txt"
    result = CliRunner().invoke(cli, ["vocab", "--corpus", str(corpus), "--size", "80", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Vocabulary:" in result.output and "[UNK] rate 0.00%" in result.output
    tokens = out.read_text(encoding="utf-8").splitlines()
    assert tokens[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] and "hello" in tokens
    assert load_tokenizer(str(tmp_path)).tokenize("hello world").numpy().tolist() == [
        tokens.index("hello"), tokens.index("world")]
    missing = CliRunner().invoke(cli, ["vocab", "--corpus", str(tmp_path / "no*.txt"), "-o", str(out)])
    assert missing.exit_code == 1 and missing.output.startswith("Error: --corpus pattern")
    assert "Traceback" not in missing.output


def test_word_tokenizer_round_trip_and_file(tmp_path):
    vocab = learn_word_vocabulary(["the cat sat", "the dog sat", "a cat"], max_size=5)
    assert vocab == ["<unk>", "<eos>", "cat", "sat", "the"]  # by count, ties alphabetical
    tok = WordTokenizer(vocab)
    assert tok.tokenize(["the cat", "a dog"]).to_list() == [[4, 2, 1], [0, 0, 1]]
    assert tok.detokenize([4, 2, 1]) == "the cat <eos>"
    corpus = tmp_path / "ptb.txt"
    corpus.write_text("the cat sat\nthe dog sat\na cat\n", encoding="utf-8")
    build_word_vocabulary(str(corpus), 5, output=tmp_path / "vocab.txt")
    loaded = load_tokenizer(str(tmp_path / "vocab.txt"), kind="word")
    assert loaded.vocabulary == vocab and loaded.eos_id == 1 and loaded.add_eos
    no_eos = WordTokenizer(learn_word_vocabulary(["The Cat"], 3, lowercase=True, eos=False), lowercase=True)
    assert no_eos.tokenize("THE cat dog").numpy().tolist() == [2, 1, 0]
    with pytest.raises(DataError, match="Unknown tokenizer type 'bpe'"):
        load_tokenizer(str(tmp_path / "vocab.txt"), kind="bpe")
