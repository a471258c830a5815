"""`kerasllm models` and the closed-form parameter counts it prints."""
import dataclasses

import numpy as np
import pytest
from click.testing import CliRunner

from kerasllm.cli.main import cli
from kerasllm.param_count import count_parameters
from kerasllm.presets import BertConfig, LSTMConfig, list_presets, load_preset


def test_models_lists_every_preset_with_its_parameter_count():
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["NAME", "FAMILY", "LAYERS"]
    names = [line.split()[0] for line in lines[1:]]
    assert sorted(names) == list_presets()
    base = next(line for line in lines if line.startswith("bert_base "))
    assert base.split()[1:5] == ["bert", "12", "768", "12"] and "109,482,240" in base
    small = next(line for line in lines if line.startswith("lstm_small "))
    assert small.split()[1:5] == ["lstm", "2", "200", "-"]
    assert len({line.index("PARAMS") if i == 0 else None for i, line in enumerate(lines)}) == 2
    # Aligned: the description column starts at the same offset on every line.
    offset = lines[0].index("DESCRIPTION")
    assert all(line[offset - 2:offset] == "  " and line[offset] != " " for line in lines)


@pytest.mark.parametrize("overrides", [
    {},
    {"intermediate_dim": 24, "num_segments": 3, "max_sequence_length": 20},
])
def test_bert_formula_matches_a_built_encoder(overrides):
    from kerasllm.models import BertEncoder

    config = BertConfig(**{"vocabulary_size": 50, "num_layers": 2, "num_heads": 2,
                           "hidden_dim": 8, "max_sequence_length": 16, **overrides})
    built = BertEncoder(**dataclasses.asdict(config)).count_params()
    assert count_parameters(config) == built


@pytest.mark.parametrize("tie", [False, True])
def test_lstm_formula_matches_a_built_model(tie):
    from kerasllm import models

    if not hasattr(models, "LSTMLanguageModel"):
        pytest.skip("LSTMLanguageModel not in kerasllm.models yet")
    config = LSTMConfig(vocabulary_size=30, embedding_dim=6, units=6 if tie else 5,
                        num_layers=3, tie_weights=tie)
    model = models.LSTMLanguageModel(**dataclasses.asdict(config))
    model(np.zeros((1, 3), "int32"))  # builds it
    assert count_parameters(config) == model.count_params()


def test_bert_base_formula_is_in_the_issue_range():
    assert 109_000_000 <= count_parameters(load_preset("bert_base").model) <= 110_000_000
