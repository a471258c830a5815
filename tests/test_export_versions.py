"""Versioned export directories: next version, refuse overwrite, atomic rename, models config."""
import pytest
import tensorflow as tf
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.errors import KerasLLMError
from kerasllm.export.models_config import update_models_config
from kerasllm.export.versioned_writer import choose_version, existing_versions, write_version


class Doubler(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
    def double(self, x):
        return {"y": 2.0 * x}


def _write(base, version):
    module = Doubler()
    return write_version(module, {"serving_default": module.double.get_concrete_function()},
                         base, version, "doubler", {"serving_default": {"x": [1.0, 2.0]}})


def test_versions_count_up_and_are_never_overwritten(tmp_path):
    base = tmp_path / "model"
    assert choose_version(base) == 1
    _write(base, 1)
    (base / "notes").mkdir()  # non-numeric entries are not versions
    assert existing_versions(base) == [1] and choose_version(base) == 2
    _write(base, choose_version(base, 7))
    assert choose_version(base) == 8
    with pytest.raises(KerasLLMError, match="already exists.*never overwrite"):
        choose_version(base, 7)
    loaded = tf.saved_model.load(str(base / "7"))
    assert loaded.signatures["serving_default"](x=tf.constant([3.0]))["y"].numpy().tolist() == [6.0]
    assert sorted(p.name for p in base.iterdir()) == ["1", "7", "notes"]  # no temp dirs left


def test_failed_export_leaves_no_version_and_no_temp_dir(tmp_path):
    base = tmp_path / "model"
    with pytest.raises(Exception):
        write_version(Doubler(), {"serving_default": "not a function"}, base, 1, "m", {})
    assert list(base.iterdir()) == []


def test_export_command_refuses_existing_version_with_one_line(tmp_path):
    (tmp_path / "model" / "3").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "run"), "--output",
                                      str(tmp_path / "model"), "--version", "3"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "already exists" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_models_config_adds_and_updates_entries(tmp_path):
    path = tmp_path / "models.config"
    path.write_text('model_config_list { config { name: "other" base_path: "/srv/other" '
                    'model_platform: "tensorflow" } }')
    update_models_config(path, "news", tmp_path / "news")
    config = update_models_config(path, "news", tmp_path / "news2")  # update, no duplicate
    entries = {c.name: c.base_path for c in config.model_config_list.config}
    assert entries == {"other": "/srv/other", "news": str((tmp_path / "news2").resolve())}
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    reread = text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())
    assert [c.name for c in reread.model_config_list.config] == ["other", "news"]
    path.write_text("this is { not a config")
    with pytest.raises(KerasLLMError, match="not a TF Serving model config"):
        update_models_config(path, "news", tmp_path / "news")
