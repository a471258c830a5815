"""The learned WordPiece vocab.txt is the same, byte for byte, in every process.

Every worker of a multi-worker job learns its own copy from ``--corpus``, so
``kerasllm vocab`` runs here in fresh processes with different PYTHONHASHSEED
and RAYON_NUM_THREADS (the Rust trainer's threads). Before the fix, the
"tokenizers" learner gave a different file in every process on this corpus (other
pieces at the size cut-off, and the '##' characters in another order).
"""
import pytest

from kerasllm.data.vocab import learn_vocabulary
from training_helpers import run_cli, write_data

SIZE = "100"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("data")) / "corpus.txt"  # 180 sentences


@pytest.mark.slow  # ~20 s: two fresh processes, each importing TensorFlow
@pytest.mark.parametrize("learner", ["tokenizers", "keras-hub"])
def test_two_processes_learn_the_same_vocab_file(corpus, tmp_path, learner):
    files = []
    for hash_seed, threads in [("1", "2"), ("2", "1")]:
        out = tmp_path / f"vocab-{hash_seed}.txt"
        result = run_cli(["vocab", "--corpus", str(corpus), "--size", SIZE, "--learner", learner,
                          "-o", str(out)], timeout=120, PYTHONHASHSEED=hash_seed, RAYON_NUM_THREADS=threads)
        assert result.returncode == 0, result.stderr[-2000:]
        files.append(out.read_bytes())
    assert files[0] == files[1]
    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    assert learn_vocabulary(lines, int(SIZE), learner=learner) == files[0].decode("utf-8").splitlines()


def test_characters_then_continuation_characters_by_code_point(corpus):
    tokens = learn_vocabulary(corpus.read_text(encoding="utf-8").splitlines(), int(SIZE))
    chars = [t for t in tokens[5:] if len(t) == 1]
    continued = [t for t in tokens if t.startswith("##") and len(t) == 3]
    assert tokens[5:5 + len(chars) + len(continued)] == sorted(chars) + sorted(continued)
    assert len(tokens) == int(SIZE) and len(set(tokens)) == len(tokens)
