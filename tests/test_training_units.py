"""Schedules, AdamW's weight-decay exclusions, seeded input streams, RUN_DIR checks."""
import keras
import numpy as np
import pytest

from kerasllm.errors import KerasLLMError
from kerasllm.training import optimizers
from kerasllm.training.inputs import array_batches
from kerasllm.training.run_setup import prepare_run_dir


def test_warmup_then_linear_decay_and_round_trip():
    schedule = optimizers.WarmupPolynomialDecay(1e-3, warmup_steps=10, total_steps=110)
    values = [float(schedule(s)) for s in (0, 5, 10, 60, 110, 500)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    assert float(restored(37)) == pytest.approx(float(schedule(37)))


def test_zaremba_epoch_decay():
    schedule = optimizers.EpochDecay(1.0, decay=0.5, decay_start_epoch=4, steps_per_epoch=10)
    assert [float(schedule(s)) for s in (0, 39, 40, 49, 50, 60)] == [1, 1, 0.5, 0.5, 0.25, 0.125]


def test_adamw_does_not_decay_layer_norm_or_bias():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4),
                              keras.layers.LayerNormalization()])
    opt = optimizers.adamw(0.1, warmup_steps=0, total_steps=100, weight_decay=0.5)
    before = {v.path: np.array(v) for v in model.trainable_variables}
    # Zero gradients: Adam's update is 0, so only weight decay can move a variable.
    opt.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    moved = {v.path.split("/")[-1]: not np.allclose(np.array(v), before[v.path])
             for v in model.trainable_variables}
    assert moved == {"kernel": True, "bias": False, "gamma": False, "beta": False}


def test_array_batches_depend_only_on_seed_epoch_and_position():
    x = np.arange(20)
    batches, steps = array_batches((x, 2 * x), batch_size=3, seed=7)
    assert steps == 6
    full = [b[0].numpy().tolist() for b in batches(0).take(14)]
    assert [b[0].numpy().tolist() for b in batches(9).take(5)] == full[9:14]
    assert sorted(sum(full[:6], [])) == sorted(set(sum(full[:6], [])))  # no repeats in an epoch
    assert full[:6] != full[6:12]  # a new order every epoch
    again, _ = array_batches((x, 2 * x), batch_size=3, seed=7)
    assert [b[1].numpy().tolist() for b in again(0).take(14)] == [[2 * v for v in r] for r in full]


def test_run_dir_refuses_other_config_and_non_runs(tmp_path):
    config = {"job": "train-lm", "model": {"units": 16}, "learning_rate": 1.0}
    assert prepare_run_dir(tmp_path / "run", config) is False
    assert prepare_run_dir(tmp_path / "run", dict(config, output="elsewhere")) is True
    with pytest.raises(KerasLLMError, match=r"key 'model.units': 16 there, 32 now"):
        prepare_run_dir(tmp_path / "run", dict(config, model={"units": 32}))
    assert prepare_run_dir(tmp_path / "run", dict(config, model={"units": 32}),
                           overwrite=True) is False
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(KerasLLMError, match="refusing to delete"):
        prepare_run_dir(tmp_path / "mine", config, overwrite=True)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_unwritable_checkpoint_dir_is_one_line_and_keeps_the_last_good_one(tmp_path):
    """A write that fails (full disk, read-only mount; here: a file where the folder
    should be) stops with one line naming the step kept, and leaves no temporaries."""
    import keras
    import numpy as np

    from kerasllm.errors import KerasLLMError
    from kerasllm.training.checkpoint import ResumableCheckpoint, latest_step

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    good = tmp_path / "good"
    ckpt = ResumableCheckpoint(good, good, every=1, steps_per_epoch=10)
    ckpt.set_model(model)
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=[ckpt])
    assert latest_step(good) == 1
    before = sorted(p.name for p in good.iterdir())
    (tmp_path / "blocked").write_text("not a folder")
    ckpt.write_dir = tmp_path / "blocked" / "checkpoints"
    with pytest.raises(KerasLLMError, match=r"cannot write checkpoint .*checkpoint \(step 1\) is kept") as err:
        ckpt.save(2)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in good.iterdir()) == before and latest_step(good) == 1


def test_a_checkpoint_of_another_model_is_refused_in_one_line_and_kept(tmp_path):
    """Resuming with a model whose variables differ (its config, or the kerasllm version that
    wrote the run) names both counts and both ways out, and changes no file."""
    import keras
    import numpy as np

    from kerasllm.errors import KerasLLMError
    from kerasllm.training.checkpoint import ResumableCheckpoint

    def fit(model, callbacks):
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=callbacks)

    run = tmp_path / "checkpoints"
    fit(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]),
        [ResumableCheckpoint(run, run, every=1, steps_per_epoch=10)])
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    with pytest.raises(KerasLLMError, match=r"ckpt-1.npz: checkpoint holds \d+ variables, the model "
                       r"has \d+.*kerasllm version that wrote it.*--overwrite") as err:
        fit(other, [ResumableCheckpoint(run, run, every=1, steps_per_epoch=10)])
    assert "\n" not in str(err.value)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
