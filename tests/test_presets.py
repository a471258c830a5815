"""Presets load into typed configs; bad files fail with one line naming file and key."""
import pytest

from kerasllm.errors import ConfigError
from kerasllm.presets import BertConfig, LSTMConfig, list_presets, load_preset

EXPECTED_BERT = {  # name: (layers, hidden, heads)
    "bert_tiny": (2, 128, 2), "bert_mini": (4, 256, 4), "bert_small": (4, 512, 8),
    "bert_medium": (8, 512, 8), "bert_base": (12, 768, 12), "bert_large": (24, 1024, 16),
}
EXPECTED_LSTM = {"lstm_small": (200, 0.0), "lstm_medium": (650, 0.5), "lstm_large": (1500, 0.65)}


def test_every_preset_is_listed():
    assert set(list_presets()) == set(EXPECTED_BERT) | set(EXPECTED_LSTM)


@pytest.mark.parametrize("name", sorted(EXPECTED_BERT))
def test_bert_presets(name):
    preset = load_preset(name)
    cfg = preset.model
    assert isinstance(cfg, BertConfig) and preset.family == "bert"
    assert (cfg.num_layers, cfg.hidden_dim, cfg.num_heads) == EXPECTED_BERT[name]
    assert cfg.intermediate_dim == 4 * cfg.hidden_dim
    assert cfg.vocabulary_size == 30522


@pytest.mark.parametrize("name", sorted(EXPECTED_LSTM))
def test_lstm_presets_carry_zaremba_recipe(name):
    preset = load_preset(name)
    units, dropout = EXPECTED_LSTM[name]
    assert isinstance(preset.model, LSTMConfig)
    assert (preset.model.units, preset.model.num_layers, preset.model.dropout) == (units, 2, dropout)
    assert preset.model.vocabulary_size == 10000
    assert preset.training.batch_size == 20 and preset.training.optimizer == "sgd"
    assert preset.training.seq_length == (20 if name == "lstm_small" else 35)


def test_overrides_keep_intermediate_rule():
    cfg = load_preset("bert_tiny", hidden_dim=64, vocabulary_size=100).model
    assert (cfg.hidden_dim, cfg.intermediate_dim, cfg.vocabulary_size) == (64, 256, 100)


def _write(tmp_path, text):
    path = tmp_path / "custom.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("body, fragment", [
    ("family: bert\nmodel:\n  hidden_dim: 100\n  num_heads: 3\n", "key 'model.hidden_dim'"),
    ("family: bert\nmodel:\n  dropout: -0.1\n", "key 'model.dropout'"),
    ("family: bert\nmodel:\n  hiden_dim: 64\n", "key 'model.hiden_dim': unknown key"),
    ("family: bert\nmodel:\n  num_layers: two\n", "key 'model.num_layers': expected int"),
    ("family: gpt\n", "key 'family'"),
    ("family: bert\nmodel: [1, 2\n", "custom.yaml:"),
])
def test_bad_preset_files_fail_with_one_line(tmp_path, body, fragment):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_preset(str(path))
    message = str(info.value)
    assert fragment in message and str(path) in message
    assert "\n" not in message
