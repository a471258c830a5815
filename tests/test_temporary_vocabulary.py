"""A vocabulary learned at a job's start lives in a temporary file for the job's whole run and is
removed when the process exits (every job used to leave a kerasllm-vocab-* folder behind)."""
import os

from kerasllm.data.vocab import write_temporary_vocabulary
from training_helpers import lm_args, run_cli, write_data


def test_the_file_holds_the_tokens_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    path = write_temporary_vocabulary(["[PAD]", "[UNK]", "cat", "##s"])
    assert os.path.dirname(os.path.dirname(path)) == str(tmp_path)
    with open(path, encoding="utf-8") as f:
        assert f.read().splitlines() == ["[PAD]", "[UNK]", "cat", "##s"]


def test_a_job_that_learns_its_vocabulary_leaves_no_temporary_folder(tmp_path):
    data = write_data(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_cli(lm_args(data, tmp_path / "lm", "--steps", "2"), TMPDIR=str(scratch))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "lm" / "vocab.txt").is_file()
    assert [p.name for p in scratch.iterdir() if p.name.startswith("kerasllm-vocab-")] == []
