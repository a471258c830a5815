"""The Zaremba et al. (2014) recipe: summed-over-time objective, epoch decay, presets."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from kerasllm.presets import load_preset
from kerasllm.training.lm_loss import TimeSummedCrossentropy, lm_loss
from kerasllm.training.optimizers import EpochDecay

B, T, V = 3, 4, 7


def _data(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(B, T, V)).astype("float32")  # (B, T, V)
    targets = rng.integers(0, V, (B, T)).astype("int32")  # (B, T)
    return tf.constant(logits), tf.constant(targets)


def test_time_summed_loss_value_is_per_token_and_gradient_is_summed_over_time():
    logits, targets = _data()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)  # (B, T)
        reference = tf.reduce_sum(ce) / B  # ptb_word_lm.py: sum over time, mean over batch
        ours = TimeSummedCrossentropy()(targets, logits)
    assert float(ours) == pytest.approx(float(tf.reduce_mean(ce)), rel=1e-6)  # nats / token
    wanted = tape.gradient(reference, logits)  # (B, T, V)
    np.testing.assert_allclose(tape.gradient(ours, logits), wanted, rtol=1e-5, atol=1e-7)
    token_mean = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        mean = token_mean(targets, logits)
    np.testing.assert_allclose(tape.gradient(mean, logits) * T, wanted, rtol=1e-5, atol=1e-7)


def _sgd_step(loss, clipnorm):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T, 5)), keras.layers.Dense(V)])  # (B, T, V) logits
    before = [w.numpy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(1.0, global_clipnorm=clipnorm), loss=loss)
    _, targets = _data(1)
    features = np.random.default_rng(2).normal(size=(B, T, 5)).astype("float32")
    reported = model.train_on_batch(features, targets)
    return reported, [w.numpy() - b for w, b in zip(model.trainable_weights, before)]


def test_fit_step_with_the_time_summed_loss_is_seq_length_times_larger():
    summed_loss, summed = _sgd_step(lm_loss("sum_over_time"), clipnorm=1e6)
    mean_loss, mean = _sgd_step(lm_loss("token_mean"), clipnorm=1e6)
    assert summed_loss == pytest.approx(mean_loss, rel=1e-5)  # same reported loss
    for a, b in zip(summed, mean):
        np.testing.assert_allclose(a, T * b, rtol=1e-4, atol=1e-6)
    # The clip acts on the summed-loss gradient: clip 1e-3 caps the step norm at lr x 1e-3.
    _, clipped = _sgd_step(lm_loss("sum_over_time"), clipnorm=1e-3)
    assert np.sqrt(sum(float(np.sum(d ** 2)) for d in clipped)) == pytest.approx(1e-3, rel=1e-3)


def test_lm_loss_rejects_an_unknown_objective():
    with pytest.raises(ValueError, match="sum_over_time, token_mean"):
        lm_loss("sum")


def test_epoch_decay_matches_ptb_word_lm_schedule():
    # ptb_word_lm.py: lr_decay ** max(i + 1 - max_epoch, 0) for 0-based epoch i.
    schedule = EpochDecay(1.0, decay=0.5, decay_start_epoch=4, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in range(0, 130, 10)]  # first step of epochs 1..13
    expected = [0.5 ** max(i + 1 - 4, 0) for i in range(13)]
    assert rates == pytest.approx(expected)
    assert rates[:4] == [1.0] * 4 and rates[4] == 0.5  # epoch 5 is the first decayed one
    assert float(schedule(39)) == 1.0 and float(schedule(40)) == 0.5  # at the epoch boundary


@pytest.mark.parametrize("name,init,clip,decay,start,epochs,steps,dropout", [
    ("lstm_small", 0.1, 5.0, 0.5, 4, 13, 20, 0.0),
    ("lstm_medium", 0.05, 5.0, 0.8, 6, 39, 35, 0.5),
    ("lstm_large", 0.04, 10.0, 1 / 1.15, 14, 55, 35, 0.65),
])
def test_presets_hold_the_paper_recipe(name, init, clip, decay, start, epochs, steps, dropout):
    preset = load_preset(name)
    recipe = preset.training
    assert (preset.model.init_scale, preset.model.dropout) == (init, dropout)
    assert (recipe.clipnorm, recipe.decay_start_epoch, recipe.epochs) == (clip, start, epochs)
    assert recipe.lr_decay == pytest.approx(decay) and recipe.learning_rate == 1.0
    assert (recipe.batch_size, recipe.seq_length) == (20, steps)
    assert recipe.loss == "sum_over_time" and recipe.optimizer == "sgd"


def test_every_parameter_starts_uniform_in_init_scale():
    from kerasllm.models import LSTMLanguageModel

    model = LSTMLanguageModel(vocabulary_size=500, embedding_dim=8, units=8, num_layers=2,
                              init_scale=0.1)
    for weight in model.trainable_weights:  # softmax bias included, as in the paper
        values = weight.numpy()
        assert np.abs(values).max() <= 0.1 and values.std() > 0.03, weight.path


def _scalars(folder, tag):
    """{step: value} of one TensorBoard scalar tag, as TensorBoard reads it."""
    from soak_helpers import scalars

    return dict(scalars(folder, tag))


def test_train_lm_defaults_xla_and_decays_the_rate_after_decay_start_epoch(tmp_path):
    import json

    import yaml
    from click.testing import CliRunner

    from kerasllm.cli.main import cli
    from training_helpers import lm_args, write_data

    data = write_data(tmp_path)  # lstm.yaml: 2 epochs, decay_start_epoch 1, lr 1 (x 0.5)
    args = lm_args(data, tmp_path / "run", "--checkpoint-every", "1")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output[-2000:]
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert config["jit"] is True and config["deterministic"] is False
    assert config["loss"] == "sum_over_time"
    steps = json.loads((tmp_path / "run" / "metrics.json").read_text())["step"]
    per_epoch = steps // 2
    # Logged after optimizer step k (1-based) is the rate step k + 1 will use.
    rates = _scalars(tmp_path / "run" / "logs" / "train", "learning_rate")
    expected = {k: 1.0 if k < per_epoch else 0.5 if k < steps else 0.25
                for k in range(1, steps + 1)}  # epoch 1 full, epoch 2 halved, then 0.25
    assert rates == pytest.approx(expected)
    exact = CliRunner().invoke(cli, lm_args(data, tmp_path / "exact", "--deterministic",
                                            "--steps", "2"), catch_exceptions=False)
    assert exact.exit_code == 0, exact.output[-2000:]
    config = yaml.safe_load((tmp_path / "exact" / "config.yaml").read_text())
    assert config["jit"] is False and config["deterministic"] is True  # no XLA under determinism


def test_recipe_benchmark_corpus_is_ptb_like_and_split_by_article(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from lstm_recipe import normalise, write_corpus

    assert normalise("Shares rose 5.5% to £1,200 in 2004.") == "shares rose N % to £ N in N ."
    sizes = write_corpus(tmp_path)
    assert 2000 < sum(size["articles"] for size in sizes.values()) <= 2225  # repeats dropped
    assert 0.7e6 < sizes["train"]["tokens"] < 0.9e6 and sizes["valid"]["tokens"] > 0.09e6
    texts = {name: (tmp_path / f"{name}.txt").read_text().split("\n\n") for name in sizes}
    assert not set(texts["train"]) & set(texts["valid"])  # no article in two splits
    assert not set(texts["valid"]) & set(texts["test"])
    assert not set(texts["train"]) & set(texts["test"])
