"""Length-grouped batches: the fine-tuning stream, evaluation and prediction batching."""
import numpy as np
import pytest

from kerasllm.data.length_batching import (bucket_widths, cut_to_width, grouped_order,
                                           map_in_length_order, sorted_dataset)
from kerasllm.training.inputs import length_grouped_batches


def packed(lengths, seq_length=40):
    """A packed input dict whose row i has lengths[i] real tokens; token id = row index + 1."""
    n = len(lengths)
    mask = (np.arange(seq_length)[None, :] < np.asarray(lengths)[:, None]).astype("int32")
    ids = mask * (np.arange(n)[:, None] + 1)
    return {"token_ids": ids.astype("int32"), "segment_ids": np.zeros_like(mask), "padding_mask": mask}


def test_bucket_widths_grow_by_at_most_half_and_end_at_seq_length():
    assert bucket_widths(128) == [16, 24, 32, 48, 64, 96, 128]
    assert bucket_widths(512)[-3:] == [256, 384, 512]
    assert bucket_widths(100) == [16, 24, 32, 48, 64, 96, 100]
    assert bucket_widths(12) == [12]


def test_cut_to_width_trims_to_longest_or_the_next_width():
    x = packed([3, 17, 5])
    assert cut_to_width(x)["token_ids"].shape == (3, 17)
    assert cut_to_width(x, [16, 24, 40])["token_ids"].shape == (3, 24)
    cut = cut_to_width(x, [16, 24, 40])
    assert np.array_equal(np.asarray(cut["padding_mask"]), x["padding_mask"][:, :24])


def test_grouped_order_is_a_seeded_permutation_of_similar_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 120, size=203)
    first = grouped_order(lengths, 8, 25, seed=7, epoch=0).numpy()  # (S, B)
    assert first.shape == (25, 8)
    assert len(set(first.ravel())) == 200  # 3 left out this epoch, none twice
    assert np.array_equal(first, grouped_order(lengths, 8, 25, seed=7, epoch=0).numpy())
    assert not np.array_equal(first, grouped_order(lengths, 8, 25, seed=7, epoch=1).numpy())
    spread = lengths[first].max(1) - lengths[first].min(1)  # (S,) within-batch length range
    random_spread = lengths[rng.permutation(200).reshape(25, 8)]
    assert spread.mean() < 0.2 * (random_spread.max(1) - random_spread.min(1)).mean()
    # batches are not served shortest first
    assert not np.all(np.diff(lengths[first].max(1)) >= 0)


def test_stream_cuts_batches_and_resumes_at_any_step():
    lengths = np.random.default_rng(1).integers(3, 40, size=50)
    x, y = packed(lengths), np.arange(50, dtype="int32")
    batches, steps = length_grouped_batches(x, y, 8, seed=3)
    assert steps == 6
    run = [b for b in batches(0).take(3 * steps)]
    for xb, yb in run:
        rows = yb.numpy()
        longest = lengths[rows].max()
        assert xb["token_ids"].shape == (8, longest)
        assert np.array_equal(xb["token_ids"].numpy(), x["token_ids"][rows, :longest])
    resumed = [b for b in batches(10).take(3 * steps - 10)]
    for (_, a), (_, b) in zip(run[10:], resumed):
        assert np.array_equal(a.numpy(), b.numpy())
    widths = bucket_widths(40)
    with_widths, _ = length_grouped_batches(x, y, 8, seed=3, widths=widths)
    shapes = {int(xb["token_ids"].shape[1]) for xb, _ in with_widths(0).take(3 * steps)}
    assert shapes <= set(widths)


def test_sorted_dataset_keeps_every_row_and_label():
    lengths = [5, 30, 2, 17, 9]
    x, y = packed(lengths), np.arange(5)
    seen = []
    for xb, yb in sorted_dataset((x, y), 2):
        assert xb["token_ids"].shape[1] == max(lengths[i] for i in yb.numpy())
        seen += list(yb.numpy())
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert [len(xb["token_ids"]) for xb in sorted_dataset(x, 2)] == [2, 2, 1]


def test_map_in_length_order_returns_rows_in_input_order():
    lengths = [5, 30, 2, 17, 9, 11, 3]
    x = packed(lengths)
    widths_seen = []

    def row_sums(batch):  # (B,) depends on the row only, not on its batch-mates
        widths_seen.append(batch["token_ids"].shape[1])
        return batch["token_ids"].sum(axis=1)

    out = map_in_length_order(row_sums, x, 3)
    assert np.array_equal(out, x["token_ids"].sum(axis=1))
    assert widths_seen == [5, 17, 30]  # sorted (2, 3, 5) (9, 11, 17) (30)


@pytest.mark.parametrize("jit", [False, True])
def test_finetune_batches_are_cut_to_length(tmp_path, jit):
    """The job's own stream: batch widths follow the texts, not --seq-length."""
    from kerasllm.training.classify_finetune import prepare
    from kerasllm.training.finetune_options import FinetuneOptions
    import tensorflow as tf

    rows = [f"{'short' if i % 2 else 'a much longer text with many words ' * 3},{i % 2}"
            for i in range(24)]
    (tmp_path / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    options = FinetuneOptions.build(
        train=tmp_path / "train.csv", init="none", preset="bert_tiny", vocab_size=60,
        batch_size=4, epochs=1, learning_rate=1e-3, warmup_steps=0, weight_decay=0.0,
        output=tmp_path / "run", jit=jit).job_options()
    spec = prepare(options, tf.distribute.get_strategy())
    _, _, plan = spec.build()
    widths = {int(xb["token_ids"].shape[1]) for xb, _ in plan.batches(0).take(plan.steps_per_epoch)}
    assert max(widths) < 64
    assert len(widths) == 2  # the short texts' batches and the long ones'
    if jit:
        assert widths <= set(bucket_widths(128))


def test_fast_defaults_follow_the_hardware_and_leave_choices_alone():
    from kerasllm.training.fast_defaults import choose, native_bf16

    device, bf16, why = native_bf16()
    options = {"precision": None, "jit": None, "deterministic": None, "replicas": None}
    said = choose(options)
    assert options["precision"] == ("mixed_bfloat16" if bf16 else "float32")
    assert options["jit"] == (device == "gpu")
    assert said.startswith("defaults: precision") and why in said
    chosen = {"precision": "float32", "jit": False, "deterministic": None, "replicas": None}
    assert choose(dict(chosen)) == "" and choose(chosen) == "" and chosen["jit"] is False
    strict = {"precision": "float32", "jit": None, "deterministic": True, "replicas": None}
    assert "XLA off (--deterministic)" in choose(strict) and strict["jit"] is False
    forced = {"precision": None, "jit": True, "deterministic": None, "replicas": None}
    choose(forced)
    assert forced["precision"] == ("mixed_bfloat16" if bf16 and device == "gpu" else "float32")
    spread = {"precision": "float32", "jit": None, "deterministic": None, "replicas": 2}
    assert "several replicas" in choose(spread) and spread["jit"] is False


def test_per_token_targets_are_cut_with_the_inputs():
    lengths = np.random.default_rng(2).integers(3, 40, size=24)
    x = packed(lengths)
    tags, weights = x["token_ids"] * 2, x["padding_mask"].astype("float32")
    batches, steps = length_grouped_batches(x, (tags, weights), 6, seed=1)
    for xb, tb, wb in batches(0).take(steps):
        assert tb.shape == wb.shape == xb["token_ids"].shape
        assert np.array_equal(tb.numpy(), 2 * xb["token_ids"].numpy())
    for xb, tb, wb in sorted_dataset((x, tags, weights), 5, widths=[16, 40]):
        assert tb.shape == xb["token_ids"].shape and xb["token_ids"].shape[1] in (16, 40)
