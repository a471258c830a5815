"""LSTMLMBlock: shared layer checks plus state carrying, causality, dropout and statefulness."""
import keras
import numpy as np
import pytest

from kerasllm.layers import LSTMLMBlock
from layer_test_helpers import run_layer_checks

B, T, E, U = 2, 6, 5, 8


def _inputs(batch=B, steps=T, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, steps, E)).astype("float32")


def test_shared_layer_checks():
    run_layer_checks(
        LSTMLMBlock, {"units": U, "num_layers": 2, "dropout": 0.2, "init_scale": 0.1},
        input_data=_inputs(), expected_output_shape=(B, T, U))


def test_shared_layer_checks_with_states_in_and_out():
    states = [[np.full((B, U), 0.1 * (i + 1), "float32"), np.zeros((B, U), "float32")]
              for i in range(2)]
    outputs, final_states = run_layer_checks(
        LSTMLMBlock, {"units": U, "num_layers": 2},
        input_data=_inputs(), input_kwargs={"initial_state": states},
        call_kwargs={"return_state": True}, run_training=False)
    assert tuple(outputs.shape) == (B, T, U)
    assert [[tuple(s.shape) for s in pair] for pair in final_states] == [[(B, U), (B, U)]] * 2


def test_carrying_state_across_two_windows_equals_the_whole_sequence():
    block = LSTMLMBlock(units=U, num_layers=2)
    x = _inputs(steps=10)
    whole, whole_states = block(x, return_state=True)
    first, states = block(x[:, :4], return_state=True)
    second, final_states = block(x[:, 4:], initial_state=states, return_state=True)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-5)
    for got, want in zip(keras.tree.flatten(final_states), keras.tree.flatten(whole_states)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_stateful_block_carries_and_resets_its_state():
    x = _inputs(steps=10)
    reference = LSTMLMBlock(units=U, num_layers=2)
    whole = reference(x)
    block = LSTMLMBlock(units=U, num_layers=2, stateful=True)
    block.build(x.shape)
    for mine, theirs in zip(block.trainable_weights, reference.trainable_weights):
        mine.assign(theirs)
    first, second = block(x[:, :4]), block(x[:, 4:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-5)
    # An explicit initial_state neither reads nor overwrites the carried state.
    carried = [v.numpy().copy() for v in block.non_trainable_weights]
    block(x[:1], initial_state=block.get_initial_state(1))
    for v, before in zip(block.non_trainable_weights, carried):
        np.testing.assert_array_equal(v.numpy(), before)
    block.reset_states()
    np.testing.assert_allclose(block(x[:, :4]), whole[:, :4], atol=1e-5)


def test_stateful_block_rejects_another_batch_size():
    block = LSTMLMBlock(units=U, num_layers=1, stateful=True)
    block(_inputs(batch=2))
    with pytest.raises(ValueError, match="built for batch size 2, received a batch of 3"):
        block(_inputs(batch=3))


def test_stateful_block_needs_a_static_batch_size():
    with pytest.raises(ValueError, match="static batch size"):
        LSTMLMBlock(units=U, num_layers=1, stateful=True).build((None, T, E))


def test_changing_a_future_step_leaves_earlier_outputs_unchanged():
    block = LSTMLMBlock(units=U, num_layers=2)
    x = _inputs()
    changed = x.copy()
    changed[:, 4] += 3.0
    a, b = block(x), block(changed)
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-6)
    assert not np.allclose(a[:, 4:], b[:, 4:], atol=1e-3)


def test_dropout_only_in_training_and_on_non_recurrent_connections():
    block = LSTMLMBlock(units=U, num_layers=2, dropout=0.5)
    x = _inputs()
    np.testing.assert_array_equal(block(x, training=False), block(x, training=False))
    assert not np.allclose(block(x, training=True), block(x, training=False))
    for lstm in block.lstm_layers:
        assert lstm.recurrent_dropout == 0 and lstm.dropout == 0
        assert lstm.activation.__name__ == "tanh"
        assert lstm.recurrent_activation.__name__ == "sigmoid"
    # Dropout before each layer and after the last: num_layers + 1 sites.
    assert len(block.layer_dropouts) + 1 == 3


def test_init_scale_bounds_every_weight():
    block = LSTMLMBlock(units=U, num_layers=2, init_scale=0.05)
    block.build((B, T, E))
    for w in block.weights:
        values = w.numpy()
        assert np.abs(values).max() <= 0.05 and values.std() > 0.01, w.path


def test_wrong_number_of_initial_states_is_a_clear_error():
    block = LSTMLMBlock(units=U, num_layers=2)
    with pytest.raises(ValueError, match="one \\[h, c\\] pair per layer"):
        block(_inputs(), initial_state=block.get_initial_state(B)[:1])
