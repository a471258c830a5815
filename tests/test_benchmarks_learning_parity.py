"""The learning-parity benchmark (issue 23, item 1): goal arithmetic, and a tiny run in which
kerasllm and keras-hub are fed the very same batches, across two invocations."""
import json
import os
import sys

import numpy as np
import pytest

pytest.importorskip("keras_hub")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import learning_parity  # noqa: E402
import parity_data  # noqa: E402
from parity_report import goals, mean_se, summarise  # noqa: E402


def _row(values):
    return {"masked_lm_accuracy": mean_se(values)}


def test_goal_is_met_within_one_standard_error_of_the_reference_or_above():
    reference = _row([0.30, 0.32, 0.34])  # mean 0.32, se 0.0115
    assert mean_se([0.30, 0.32, 0.34])["se"] == pytest.approx(0.02 / np.sqrt(3))
    close = goals({"kerasllm-mlm": _row([0.31, 0.31, 0.31]), "keras-hub-mlm": reference})
    assert close[0]["met"] and close[0]["difference"] == pytest.approx(-0.01)
    below = goals({"kerasllm-mlm": _row([0.30, 0.30, 0.30]), "keras-hub-mlm": reference})
    assert not below[0]["met"]
    above = goals({"kerasllm-mlm": _row([0.5, 0.5, 0.5]), "keras-hub-mlm": reference})
    assert above[0]["met"]


def test_nsp_hurting_mlm_beyond_noise_and_nsp_near_chance_are_both_flagged():
    mlm = _row([0.30, 0.32, 0.34])
    nsp = dict(_row([0.25, 0.26, 0.27]), nsp_accuracy=mean_se([0.55, 0.56, 0.57]))
    mlm_goal, nsp_goal = goals({"kerasllm-mlm": mlm, "kerasllm-mlm+nsp": nsp}, nsp_majority=0.553)
    assert mlm_goal["candidate"] == "kerasllm-mlm+nsp" and not mlm_goal["met"]
    assert not nsp_goal["met"] and nsp_goal["majority_class"] == 0.553
    weighted = dict(_row([0.31, 0.32, 0.33]), nsp_accuracy=mean_se([0.70, 0.72, 0.74]))
    checks = goals({"kerasllm-mlm": mlm, "kerasllm-mlm+nsp": nsp, "kerasllm-mlm+nsp-w0.1": weighted})
    assert [(c.get("candidate"), c["met"]) for c in checks] == [
        ("kerasllm-mlm+nsp", False), (None, False), ("kerasllm-mlm+nsp-w0.1", True), (None, True)]
    # with the MLM-only control at the same loss scale, the weighted run is held to it too
    control = _row([0.33, 0.34, 0.35])
    checks = goals({"kerasllm-mlm": mlm, "kerasllm-mlm-w0.1": control, "kerasllm-mlm+nsp-w0.1": weighted})
    assert [(c.get("candidate"), c.get("reference"), c["met"]) for c in checks] == [
        ("kerasllm-mlm+nsp-w0.1", "kerasllm-mlm", True), ("kerasllm-mlm+nsp-w0.1", "kerasllm-mlm-w0.1", False),
        (None, None, True)]


def test_a_stopped_run_keeps_its_curve_but_stays_out_of_the_summary():
    def run(seed, accuracy, finished=True):
        point = {"step": 2, "masked_lm_accuracy": accuracy, "masked_lm_loss": 1.0}
        return {"impl": "kerasllm-mlm", "seed": seed, "finished": finished, "curve": [point],
                "final": point, "wall_s": 1.0}
    table = summarise([run(0, 0.2), run(1, 0.4), run(2, 0.9, finished=False)])
    assert table["kerasllm-mlm"]["seeds"] == [0, 1]
    assert table["kerasllm-mlm"]["masked_lm_accuracy"]["mean"] == pytest.approx(0.3)


def test_mlm_view_drops_the_nsp_labels_and_keeps_the_rest():
    x = {"token_ids": np.ones((2, 4), "int32")}
    batch = (x, {"mlm": np.ones((2, 2)), "nsp": np.zeros(2)}, {"mlm": np.ones((2, 2)), "nsp": np.ones(2)})
    mlm = parity_data.view(batch, "mlm")
    assert mlm[0] is x and mlm[1] is batch[1]["mlm"] and mlm[2] is batch[2]["mlm"]
    assert parity_data.view(batch, "mlm+nsp") is batch


def test_mlm_weight_scales_the_mlm_only_control_and_names_each_weighted_run():
    """kerasllm-mlm at --mlm-weight W is the control for the pretrainer at W: the same model
    and batches, its loss times W (clipping and Adam's epsilon see that scale)."""
    import keras
    from types import SimpleNamespace

    from bert_models import bert_config

    config = bert_config("bert_tiny", vocabulary_size=50, max_sequence_length=16)
    recipe = SimpleNamespace(weight_decay=0.01, clipnorm=1.0)
    rng = np.random.default_rng(0)
    x = {"token_ids": rng.integers(5, 50, (4, 16)), "segment_ids": np.zeros((4, 16), "int32"),
         "padding_mask": np.ones((4, 16), bool), "mask_positions": np.tile(np.arange(3), (4, 1))}
    y, weights = rng.integers(5, 50, (4, 3)), np.ones((4, 3), "float32")
    losses = {}
    for weight in (1.0, 4.0):
        args = SimpleNamespace(mlm_weight=weight, mlm_alone_steps=0, learning_rate=1e-3,
                               warmup_steps=1, steps=2, jit=False)
        keras.utils.set_random_seed(0)  # the same initial weights
        model, task, _ = learning_parity.build("kerasllm-mlm", config, recipe, args)
        losses[weight] = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)["loss"]
        assert task == "mlm"
    assert losses[4.0] == pytest.approx(4 * losses[1.0], rel=1e-5) and losses[1.0] > 1.0
    names = {impl: learning_parity.run_name(impl, args) for impl in learning_parity.IMPLS}
    assert names == {"kerasllm-mlm": "kerasllm-mlm-w4", "keras-hub-mlm": "keras-hub-mlm",
                     "kerasllm-mlm+nsp": "kerasllm-mlm+nsp-w4"}
    args.mlm_alone_steps = 500  # only the pretrainer has an NSP loss to hold back
    assert learning_parity.run_name("kerasllm-mlm+nsp", args) == "kerasllm-mlm+nsp-w4-from500"
    assert learning_parity.run_name("kerasllm-mlm", args) == "kerasllm-mlm-w4"
    args.mlm_weight = 1.0
    assert learning_parity.run_name("kerasllm-mlm+nsp", args) == "kerasllm-mlm+nsp-from500"


TINY = ["--max-articles", "40", "--vocab-size", "400", "--steps", "4", "--eval-every", "2",
        "--batch-size", "4", "--seq-length", "32", "--eval-examples", "8"]


@pytest.mark.slow
def test_tiny_run_feeds_both_libraries_identical_batches_and_records_the_curves(tmp_path):
    """~30 CPU-seconds (two invocations, five 4-step runs): slow-marked."""
    out = tmp_path / "parity.json"
    common = TINY + ["--work", str(tmp_path / "work"), "--output", str(out)]
    learning_parity.main(common + ["--seeds", "0", "1", "--impl", "kerasllm-mlm", "keras-hub-mlm"])
    # later invocations add MLM+NSP runs (a second MLM weight beside the first); the stream
    # is drawn again from the seed
    learning_parity.main(common + ["--seeds", "0", "--impl", "kerasllm-mlm+nsp"])
    learning_parity.main(common + ["--seeds", "0", "--impl", "kerasllm-mlm+nsp", "--mlm-weight", "0.1"])
    learning_parity.main(common + ["--seeds", "0", "--impl", "kerasllm-mlm+nsp", "--mlm-alone-steps", "2"])
    result = json.loads(out.read_text())
    runs = {(r["impl"], r["seed"]): r for r in result["runs"]}
    assert set(runs) == {("kerasllm-mlm", 0), ("keras-hub-mlm", 0), ("kerasllm-mlm", 1),
                         ("keras-hub-mlm", 1), ("kerasllm-mlm+nsp", 0), ("kerasllm-mlm+nsp-w0.1", 0),
                         ("kerasllm-mlm+nsp-from2", 0)}
    same = {runs[(impl, 0)]["mlm_sha256"] for impl in ("kerasllm-mlm", "keras-hub-mlm", "kerasllm-mlm+nsp",
                                                      "kerasllm-mlm+nsp-w0.1")}
    assert len(same) == 1  # one stream: identical token ids, mask positions, targets, weights
    assert runs[("keras-hub-mlm", 0)]["fed_sha256"] == runs[("kerasllm-mlm", 0)]["fed_sha256"]
    assert runs[("kerasllm-mlm+nsp", 0)]["fed_sha256"] != runs[("kerasllm-mlm+nsp", 0)]["mlm_sha256"]
    assert runs[("kerasllm-mlm", 1)]["mlm_sha256"] != runs[("kerasllm-mlm", 0)]["mlm_sha256"]
    for run in runs.values():
        assert run["finished"] and [p["step"] for p in run["curve"]] == [0, 2, 4]
        assert 0.0 <= run["final"]["masked_lm_accuracy"] <= 1.0 and run["final"]["masked_lm_loss"] > 0
        assert run["batches"]["steps"] == 4 and run["batches"]["sequences"] == 16
    assert "nsp_accuracy" in runs[("kerasllm-mlm+nsp", 0)]["final"]
    assert runs[("kerasllm-mlm+nsp-w0.1", 0)]["mlm_weight"] == 0.1
    assert runs[("kerasllm-mlm+nsp-from2", 0)]["mlm_alone_steps"] == 2
    assert runs[("kerasllm-mlm+nsp-from2", 0)]["mlm_sha256"] == runs[("kerasllm-mlm", 0)]["mlm_sha256"]
    weighted = runs[("kerasllm-mlm+nsp-w0.1", 0)]["curve"][1]  # same batches, another objective
    assert weighted != runs[("kerasllm-mlm+nsp", 0)]["curve"][1]
    assert result["summary"]["keras-hub-mlm"]["masked_lm_accuracy"]["n"] == 2
    assert [g.get("candidate") for g in result["goals"]] == [
        "kerasllm-mlm", "kerasllm-mlm+nsp", None, "kerasllm-mlm+nsp-from2", None,
        "kerasllm-mlm+nsp-w0.1", None]
    assert result["held_out"]["examples"] == 8 and result["differences"]
    assert out.with_suffix(".png").stat().st_size > 10_000
