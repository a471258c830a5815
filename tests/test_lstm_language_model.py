"""LSTMLanguageModel: fit on a pattern, stateful BPTT, .keras round trip, presets, precision."""
import keras
import numpy as np
import pytest

from kerasllm.errors import ConfigError
from kerasllm.models import LSTMLanguageModel

V = 20
PATTERN = np.array([3, 7, 1, 9, 4, 12, 5, 16], "int32")


def tiny(**overrides):
    config = dict(vocabulary_size=V, embedding_dim=16, units=16, num_layers=2, dropout=0.0)
    return LSTMLanguageModel(**{**config, **overrides})


def pattern_windows(count=64, length=9, seed=0):
    """Windows cut at random offsets from the repeating PATTERN: (count, length) ids."""
    stream = np.tile(PATTERN, 40)
    starts = np.random.default_rng(seed).integers(0, len(stream) - length, count)
    return np.stack([stream[s:s + length] for s in starts])


def test_logits_shape_dtype_and_dict_input():
    model = tiny()
    ids = pattern_windows(count=3, length=5)
    logits = model(ids)
    assert tuple(logits.shape) == (3, 5, V) and logits.dtype == "float32"
    np.testing.assert_array_equal(model({"token_ids": ids}), logits)
    with pytest.raises(ValueError, match="key 'token_ids'"):
        model({"ids": ids})


def test_fit_learns_a_repeating_pattern_and_generates_it():
    windows = pattern_windows()
    model = tiny(dropout=0.1, init_scale=0.5)  # wider init than Zaremba's 0.1: a tiny model learns fast
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(windows[:, :-1], windows[:, 1:], batch_size=8, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < 0.5 * losses[0]
    perplexity = np.exp(model.evaluate(windows[:, :-1], windows[:, 1:], verbose=0))
    assert perplexity < 2.0, f"perplexity {perplexity:.2f} should be far below vocabulary size {V}"
    generated = model.generate(PATTERN[None, :3], max_new_tokens=10, temperature=0.0)
    np.testing.assert_array_equal(generated[0], np.tile(PATTERN, 2)[:13])


def test_default_loss_is_sparse_cross_entropy_on_logits():
    windows = pattern_windows(count=16)
    model = tiny()
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    losses = model.fit(windows[:, :-1], windows[:, 1:], batch_size=8, epochs=3,
                       verbose=0).history["loss"]
    assert abs(losses[0] - np.log(V)) < 0.3 and losses[-1] < losses[0]


def _consecutive_windows(streams, window):
    """(B, L + 1) streams -> x, y of (L / window * B, window): batch k holds window k of every row."""
    length = streams.shape[1] - 1
    x = [streams[:, s:s + window] for s in range(0, length, window)]
    y = [streams[:, s + 1:s + window + 1] for s in range(0, length, window)]
    return np.concatenate(x), np.concatenate(y)


def test_stateful_fit_carries_state_across_windows():
    batch_size, window = 3, 4
    streams = np.random.default_rng(1).integers(0, V, (batch_size, 4 * window + 1))
    x, y = _consecutive_windows(streams, window)
    model = tiny(stateful=True, batch_size=batch_size, init_scale=0.5)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # The loss over the whole streams, state never cut: what truncated BPTT must see.
    stateless = tiny(init_scale=0.5)
    stateless.set_weights([w.numpy() for w in model.trainable_weights])
    whole = float(loss_fn(streams[:, 1:], stateless(streams[:, :-1])))
    first_window_only = float(loss_fn(y, stateless(x)))
    assert abs(whole - first_window_only) > 1e-3  # the check below can tell them apart
    # learning_rate=0: fit reports the loss of the carried-state forward pass.
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss_fn)
    fit_loss = model.fit(x, y, batch_size=batch_size, shuffle=False, epochs=1,
                         verbose=0).history["loss"][0]
    np.testing.assert_allclose(fit_loss, whole, rtol=1e-4)
    model.reset_states()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=batch_size, verbose=0), whole,
                               rtol=1e-4)
    # And a real optimizer learns through the windows.
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss_fn)
    reset = keras.callbacks.LambdaCallback(on_epoch_begin=lambda *_: model.reset_states())
    losses = model.fit(x, y, batch_size=batch_size, shuffle=False, epochs=4, verbose=0,
                       callbacks=[reset]).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_stateful_model_needs_a_batch_size():
    with pytest.raises(ValueError, match="needs a fixed `batch_size`"):
        tiny(stateful=True)


@pytest.mark.parametrize("tie_weights", [False, True])
def test_keras_file_round_trip_gives_identical_outputs(tmp_path, tie_weights):
    windows = pattern_windows(count=8)
    model = tiny(tie_weights=tie_weights, dropout=0.2)
    model.compile(optimizer="adam")
    model.fit(windows[:, :-1], windows[:, 1:], epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")  # no custom_objects
    assert type(loaded) is LSTMLanguageModel
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded(windows), model(windows))
    np.testing.assert_array_equal(loaded.generate(windows[:2, :3], 4, seed=5),
                                  model.generate(windows[:2, :3], 4, seed=5))
    assert loaded.optimizer is not None
    loaded.fit(windows[:, :-1], windows[:, 1:], epochs=1, verbose=0)  # compiled on load


def test_stateful_round_trip_keeps_the_carried_state(tmp_path):
    model = tiny(stateful=True, batch_size=2)
    ids = pattern_windows(count=2, length=6)
    model(ids)  # carries a non-zero state
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    np.testing.assert_allclose(loaded(ids), model(ids), atol=1e-6)


def test_tied_weights_share_the_embedding_matrix():
    tied, untied = tiny(tie_weights=True), tiny(tie_weights=False)
    assert len(tied.trainable_weights) == len(untied.trainable_weights) - 1
    assert tied.count_params() == untied.count_params() - 16 * V
    with pytest.raises(ValueError, match="needs embedding_dim == units.*received embedding_dim=8"):
        tiny(tie_weights=True, embedding_dim=8)


def test_from_preset_uses_the_preset_values_and_overrides():
    model = LSTMLanguageModel.from_preset("lstm_small", vocabulary_size=50)
    assert (model.units, model.num_layers, model.embedding_dim) == (200, 2, 200)
    assert model.dropout == 0.0 and model.init_scale == 0.1 and model.vocabulary_size == 50
    assert [l.units for l in model.lstm_block.lstm_layers] == [200, 200]
    assert tuple(model(np.zeros((2, 3), "int32")).shape) == (2, 3, 50)
    stateful = LSTMLanguageModel.from_preset("lstm_small", vocabulary_size=50, units=8,
                                             embedding_dim=8, stateful=True, batch_size=3)
    assert stateful.stateful and stateful.batch_size == 3 and stateful.units == 8
    with pytest.raises(ConfigError, match="needs an lstm preset"):
        LSTMLanguageModel.from_preset("bert_tiny")
    with pytest.raises(ConfigError, match="dropout"):
        LSTMLanguageModel.from_preset("lstm_small", dropout=-0.1)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_with_float32_logits(policy):
    keras.mixed_precision.set_global_policy(policy)
    windows = pattern_windows(count=8)
    untied = tiny(tie_weights=False)
    assert untied(windows).dtype == "float32"
    model = tiny(tie_weights=True)
    logits = model(windows)
    assert logits.dtype == "float32" and model.lstm_block.compute_dtype != "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    model.compile(optimizer="adam")
    loss = model.fit(windows[:, :-1], windows[:, 1:], epochs=1, verbose=0).history["loss"]
    assert np.isfinite(loss[0])
    assert model.generate(windows[:1, :2], 3, seed=0).shape == (1, 5)


def test_fit_compiles_with_xla():
    windows = pattern_windows(count=8, length=5)
    model = tiny(num_layers=1, tie_weights=True)
    model.compile(optimizer="adam", jit_compile=True)
    losses = model.fit(windows[:, :-1], windows[:, 1:], epochs=2, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[1] < losses[0]
