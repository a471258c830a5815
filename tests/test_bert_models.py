"""BERT models: shapes, masks, fit with default compile, .keras round trips, presets."""
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasllm.errors import ConfigError
from kerasllm.param_count import count_parameters
from kerasllm.presets import load_preset
from kerasllm.models import (BertClassifier, BertEncoder, BertMaskedLM, BertNSP,
                             BertPretrainer, BertQuestionAnswering, BertSentenceOrder,
                             BertTokenClassifier)

B, T, P, V, H = 8, 12, 3, 60, 16
TINY = {"vocabulary_size": V, "num_layers": 2, "num_heads": 2, "hidden_dim": H,
        "intermediate_dim": 32, "max_sequence_length": 32}
FIT_TINY = dict(TINY, num_layers=1)  # fit tests: tracing the train step dominates their cost


def _x(seed=0, mask_positions=False):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(T // 2, T + 1, B)
    padding = (np.arange(T)[None] < lengths[:, None]).astype("int32")
    x = {"token_ids": rng.integers(1, V, (B, T)).astype("int32") * padding,
         "segment_ids": (np.arange(T)[None] >= lengths[:, None] // 2).astype("int32") * padding,
         "padding_mask": padding}
    if mask_positions:
        x["mask_positions"] = rng.integers(1, T // 2, (B, P)).astype("int32")
    return x


def _mlm_targets(seed=0):
    rng = np.random.default_rng(seed)
    weights = np.ones((B, P), "float32")
    weights[:, -1] = 0.0  # a padded mask slot
    return rng.integers(0, V, (B, P)).astype("int32"), weights


def _labels(classes=2, seed=0):
    return np.random.default_rng(seed).integers(0, classes, (B,)).astype("int32")


def _fit_loss_goes_down(model, x, y, sample_weight=None, **compile_kwargs):
    data = (x, y) if sample_weight is None else (x, y, sample_weight)
    ds = tf.data.Dataset.from_tensor_slices(data).batch(4).repeat()
    model.compile(optimizer=keras.optimizers.Adam(5e-3), **compile_kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(ds, steps_per_epoch=2, epochs=4, verbose=0).history
    # every trainable weight is on the loss's path (an unread pooler is not trainable)
    assert not [str(w.message) for w in caught if "Gradients do not exist" in str(w.message)]
    losses = history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    return history


def _assert_round_trip(model, x, tmp_path):
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects
    assert type(loaded) is type(model)
    keras.tree.map_structure(  # eager calls: no extra tracing / XLA compiles in tests
        lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b)),
        model(x, training=False), loaded(x, training=False))
    return loaded


def test_encoder_outputs_and_attributes():
    encoder = BertEncoder(**TINY)
    out = encoder(_x())
    assert out["sequence_output"].shape == (B, T, H) and out["pooled_output"].shape == (B, H)
    assert len(encoder.transformer_layers) == 2
    assert encoder.embeddings.token_embedding.embeddings.shape == (V, H)
    np.testing.assert_allclose(out["pooled_output"],
                               encoder.pooler(out["sequence_output"]), atol=1e-6)


def test_encoder_ignores_padded_tokens():
    encoder = BertEncoder(**TINY)
    x = _x()
    before = encoder(x)["sequence_output"].numpy()
    changed = dict(x, token_ids=np.where(x["padding_mask"] == 1, x["token_ids"], 7))
    after = encoder(changed)["sequence_output"].numpy()
    real = x["padding_mask"] == 1
    assert (~real).any()
    np.testing.assert_allclose(after[real], before[real], atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_outputs_are_float32_under_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    model = BertPretrainer(BertEncoder(**TINY))
    out = model(_x(mask_positions=True))
    assert out["mlm"].dtype == "float32" and out["nsp"].dtype == "float32"
    assert np.all(np.isfinite(out["mlm"].numpy()))
    assert model.encoder(_x())["sequence_output"].dtype == "float32"


def test_encoder_round_trip(tmp_path):
    _assert_round_trip(BertEncoder(**TINY), _x(), tmp_path)


@pytest.mark.slow  # fit + save/load: ~20-30 s of CPU on 2 cores
def test_masked_lm_fits_with_default_compile_and_round_trips(tmp_path):
    model = BertMaskedLM(BertEncoder(**FIT_TINY))
    x = _x(mask_positions=True)
    ids, weights = _mlm_targets()
    history = _fit_loss_goes_down(model, x, ids, weights)
    assert "accuracy" in history
    assert model.masked_lm_head.token_embedding is model.encoder.embeddings.token_embedding
    logits = model(x, training=False)
    assert logits.shape == (B, P, V)
    loaded = _assert_round_trip(model, x, tmp_path)
    # Saved compiled: the loaded model evaluates with the masked-token mean loss.
    ce = keras.losses.sparse_categorical_crossentropy(ids, logits, from_logits=True).numpy()
    np.testing.assert_allclose(
        loaded.evaluate(x, ids, sample_weight=weights, batch_size=B, verbose=0)[0],
        (ce * weights).sum() / weights.sum(), rtol=1e-5)


def test_masked_lm_loss_and_accuracy_ignore_zero_weight_slots():
    model = BertMaskedLM(BertEncoder(**TINY))
    model.compile(optimizer="adam")
    x = _x(mask_positions=True)
    ids, weights = _mlm_targets()
    logits = model(x, training=False).numpy()
    ids[:, -1] = np.argmax(logits[:, -1], -1)  # padded slots "correct": must not count
    result = model.evaluate(x, ids, sample_weight=weights, batch_size=B, verbose=0,
                            return_dict=True)
    ce = keras.losses.sparse_categorical_crossentropy(ids, logits, from_logits=True).numpy()
    np.testing.assert_allclose(result["loss"], (ce * weights).sum() / weights.sum(), rtol=1e-5)
    correct = (np.argmax(logits, -1) == ids)[:, :-1]
    np.testing.assert_allclose(result["accuracy"], correct.mean(), rtol=1e-6)


@pytest.mark.slow  # fit + save/load: ~20-30 s of CPU on 2 cores
@pytest.mark.parametrize("cls", [BertNSP, BertSentenceOrder])
def test_pair_models_fit_and_round_trip(cls, tmp_path):
    model = cls(BertEncoder(**FIT_TINY))
    x, y = _x(), _labels()
    assert "accuracy" in _fit_loss_goes_down(model, x, y)
    assert model(x).shape == (B, 2)
    head = model.nsp_head if cls is BertNSP else model.sop_head
    assert head.use_pooler is False  # pooled by the encoder's pooler
    _assert_round_trip(model, x, tmp_path)


@pytest.mark.slow  # fit + save/load: ~20-30 s of CPU on 2 cores
def test_classifier_fits_with_explicit_loss_and_round_trips(tmp_path):
    model = BertClassifier(BertEncoder(**FIT_TINY), num_classes=3, dropout=0.0)
    x, y = _x(), _labels(3)
    _fit_loss_goes_down(model, x, y,
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert model(x).shape == (B, 3)
    loaded = _assert_round_trip(model, x, tmp_path)
    assert loaded.num_classes == 3 and loaded.dropout == 0.0


def test_mean_pooled_classifier_reads_the_mean_of_the_real_tokens(tmp_path):
    model = BertClassifier(BertEncoder(**TINY), num_classes=3, dropout=0.0, pooling="mean")
    x = _x()
    hidden = model.encoder(x)["sequence_output"].numpy()  # (B, T, H)
    real = x["padding_mask"][:, :, None].astype("float32")
    mean = (hidden * real).sum(1) / real.sum(1)  # (B, H)
    np.testing.assert_allclose(model(x).numpy(), model.classification_head(mean).numpy(),
                               rtol=1e-5, atol=1e-5)
    before = model(x).numpy()
    for weight in model.encoder.pooler.weights:  # [CLS] and the pooler are off its path
        weight.assign(weight + 1.0)
    np.testing.assert_array_equal(model(x).numpy(), before)
    assert not [v.path for v in model.trainable_variables if "pooler" in v.path]
    loaded = _assert_round_trip(model, x, tmp_path)
    assert loaded.pooling == "mean" and not loaded.encoder.pooler.trainable
    with pytest.raises(ValueError, match="pooling must be one of"):
        BertClassifier(BertEncoder(**TINY), num_classes=3, pooling="max")


def test_the_pooler_trains_only_where_the_task_reads_it():
    """Unread, it would get no gradients (keras warns each step) and optimizer slots; an
    encoder handed on from a masked LM trains it again; a frozen encoder stays frozen."""
    def pooler_trains(model):
        return any("pooler" in v.path for v in model.trainable_variables)

    encoder = BertEncoder(**TINY)
    assert not pooler_trains(BertMaskedLM(encoder))
    assert pooler_trains(BertPretrainer(encoder))
    assert not pooler_trains(BertTokenClassifier(encoder, num_classes=3))
    assert not pooler_trains(BertQuestionAnswering(encoder))
    assert not pooler_trains(BertClassifier(encoder, num_classes=3, pooling="mean"))
    assert pooler_trains(BertClassifier(encoder, num_classes=3))
    assert pooler_trains(BertSentenceOrder(encoder))
    encoder.trainable = False
    frozen = BertNSP(encoder)
    assert [v.path for v in frozen.trainable_variables] == [v.path for v in frozen.nsp_head.weights]


@pytest.mark.slow  # fit + save/load: ~20-30 s of CPU on 2 cores
def test_pretrainer_trains_on_the_contract_format(tmp_path):
    model = BertPretrainer(BertEncoder(**FIT_TINY), mlm_weight=0.5)
    x = _x(mask_positions=True)
    ids, weights = _mlm_targets()
    labels = _labels()
    y = {"mlm": ids, "nsp": labels}
    sw = {"mlm": weights, "nsp": np.ones((B,), "float32")}
    history = _fit_loss_goes_down(model, x, y, sw)
    assert {"mlm_accuracy", "nsp_accuracy", "mlm_loss", "nsp_loss"} <= set(history)
    result = model.evaluate(x, y, sample_weight=sw, batch_size=B, verbose=0, return_dict=True)
    out = keras.tree.map_structure(np.asarray, model(x, training=False))
    mlm = keras.losses.sparse_categorical_crossentropy(ids, out["mlm"], from_logits=True).numpy()
    nsp = keras.losses.sparse_categorical_crossentropy(labels, out["nsp"], from_logits=True)
    expected = 0.5 * (mlm * weights).sum() / weights.sum() + np.mean(nsp)
    np.testing.assert_allclose(result["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(result["nsp_accuracy"],
                               np.mean(np.argmax(out["nsp"], -1) == labels), rtol=1e-6)
    _assert_round_trip(model, x, tmp_path)


def test_pretrainer_trains_mlm_alone_for_its_first_steps():
    """mlm_alone_steps=N: steps 1..N move the encoder exactly as the NSP-weight-0 model
    does and leave the pooler and NSP head as they were, while the NSP loss is still
    logged; from step N+1 NSP trains them."""
    x = _x(mask_positions=True)
    ids, weights = _mlm_targets()
    y, sw = {"mlm": ids, "nsp": _labels()}, {"mlm": weights, "nsp": np.ones((B,), "float32")}
    data = tf.data.Dataset.from_tensors((x, y, sw))  # one full batch per epoch
    config = dict(FIT_TINY, dropout=0.0)  # no random masks: the two runs must agree exactly
    gated = BertPretrainer(BertEncoder(**config), mlm_alone_steps=2)
    reference = BertPretrainer(BertEncoder(**config))
    reference.set_weights(gated.get_weights())
    nsp_side = lambda m: [w.numpy() for w in m.nsp_head.weights + m.encoder.pooler.weights]
    before, encoder_start = nsp_side(gated), gated.encoder.weights[0].numpy()
    gated.compile(optimizer=keras.optimizers.SGD(0.5))
    reference.compile(optimizer=keras.optimizers.SGD(0.5), loss_weights={"mlm": 1.0, "nsp": 0.0})
    logged = gated.fit(data, epochs=2, verbose=0).history
    reference.fit(data, epochs=2, verbose=0)
    for got, want in zip(gated.encoder.weights, reference.encoder.weights):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-6, err_msg=got.path)
    assert not np.array_equal(gated.encoder.weights[0].numpy(), encoder_start)  # MLM trained it
    for got, want in zip(nsp_side(gated), before):
        np.testing.assert_array_equal(got, want)
    assert min(logged["nsp_loss"]) > 0.1  # still computed and logged, only not trained on
    np.testing.assert_allclose(logged["loss"], np.add(logged["mlm_loss"], logged["nsp_loss"]),
                               rtol=1e-5)
    gated.fit(data, epochs=1, verbose=0)  # step 3: NSP joins
    assert all(not np.array_equal(got, want) for got, want in zip(nsp_side(gated), before))
    assert gated.get_config()["mlm_alone_steps"] == 2


def test_pretraining_models_equal_the_full_encoder_then_the_heads():
    """The last layer runs at [CLS] and the masked positions only; outputs must not change."""
    x = _x(mask_positions=True)
    pretrainer = BertPretrainer(BertEncoder(**TINY))
    masked_lm = BertMaskedLM(pretrainer.encoder)  # same encoder weights, MLM only
    encoder_x = {k: v for k, v in x.items() if k != "mask_positions"}
    encoded = pretrainer.encoder(encoder_x, training=False)  # full (B, T, H), every layer
    want_mlm = pretrainer.masked_lm_head(encoded["sequence_output"], x["mask_positions"])
    want_nsp = pretrainer.nsp_head(encoded["pooled_output"])
    got = pretrainer(x, training=False)
    np.testing.assert_allclose(got["mlm"], want_mlm, atol=1e-5)
    np.testing.assert_allclose(got["nsp"], want_nsp, atol=1e-5)
    np.testing.assert_allclose(  # its own head, the shared encoder
        masked_lm(x, training=False),
        masked_lm.masked_lm_head(encoded["sequence_output"], x["mask_positions"]), atol=1e-5)
    # ... nor the NSP loss's gradients through the shared encoder (what NSP learns from)
    labels = _labels()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = [w for w in pretrainer.encoder.trainable_weights
               if not w.path.endswith("key/bias")]  # softmax ignores a key bias: its gradient is 0
    with tf.GradientTape(persistent=True) as tape:
        via_pretrainer = ce(labels, pretrainer(x, training=False)["nsp"])
        via_encoder = ce(labels, pretrainer.nsp_head(
            pretrainer.encoder(encoder_x, training=False)["pooled_output"]))
    got_g, want_g = ([tf.convert_to_tensor(g) for g in tape.gradient(loss, weights)]
                     for loss in (via_pretrainer, via_encoder))
    assert float(tf.linalg.global_norm(want_g)) > 1e-3  # the loss does reach the encoder
    for got, want in zip(got_g, want_g):
        np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("cls,kwargs", [(BertEncoder, {}), (BertMaskedLM, {}),
                                        (BertNSP, {}), (BertPretrainer, {"mlm_weight": 2.0}),
                                        (BertSentenceOrder, {}),
                                        (BertClassifier, {"num_classes": 4})])
def test_from_preset_with_tiny_overrides(cls, kwargs):
    model = cls.from_preset("bert_tiny", vocabulary_size=V, hidden_dim=H, num_layers=1,
                            max_sequence_length=32, **kwargs)
    encoder = model if cls is BertEncoder else model.encoder
    assert (encoder.num_layers, encoder.hidden_dim, encoder.num_heads) == (1, H, 2)
    assert encoder.intermediate_dim == 4 * H  # the preset's 4 x hidden rule
    assert encoder.dropout == 0.1 and encoder.vocabulary_size == V
    for key, value in kwargs.items():
        assert getattr(model, key) == value


def test_from_preset_rejects_lstm_presets_and_bad_overrides():
    with pytest.raises(ConfigError, match="bert preset"):
        BertEncoder.from_preset("lstm_small")
    with pytest.raises(ConfigError, match="hidden_dim"):
        BertEncoder.from_preset("bert_tiny", hidden_dim=129)


@pytest.mark.slow
def test_bert_base_has_110m_parameters():
    params = BertEncoder.from_preset("bert_base").count_params()
    assert 109_000_000 <= params <= 110_000_000, params
    assert params == count_parameters(load_preset("bert_base").model)
