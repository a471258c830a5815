"""LSTMLanguageModel.generate and its step API: seeds, greedy, top-k / top-p, shapes, errors."""
import numpy as np
import pytest

from kerasllm.models import LSTMLanguageModel

V = 30
PROMPT = np.array([[1, 5, 9], [2, 2, 7]], "int32")


@pytest.fixture(scope="module")
def model():
    # A wide init gives peaked, input-dependent logits, so greedy has no near-ties.
    return LSTMLanguageModel(V, 12, 12, num_layers=2, init_scale=0.6)


def test_output_is_prompt_plus_new_ids(model):
    out = model.generate(PROMPT, max_new_tokens=6, seed=0)
    assert out.shape == (2, 9) and out.dtype == np.int32
    np.testing.assert_array_equal(out[:, :3], PROMPT)
    assert out.min() >= 0 and out.max() < V
    single = model.generate(PROMPT[0], max_new_tokens=2, seed=0)
    assert single.shape == (5,)
    np.testing.assert_array_equal(model.generate(PROMPT, 0), PROMPT)


def test_same_seed_same_output_and_different_seeds_differ(model):
    a = model.generate(PROMPT, 12, temperature=1.5, seed=7)
    np.testing.assert_array_equal(model.generate(PROMPT, 12, temperature=1.5, seed=7), a)
    others = [model.generate(PROMPT, 12, temperature=1.5, seed=s) for s in (8, 9)]
    assert any(not np.array_equal(a, o) for o in others)


def test_greedy_is_the_argmax_continuation_of_the_full_sequence_logits(model):
    out = model.generate(PROMPT, 8, temperature=0.0, seed=1)
    logits = np.asarray(model(out[:, :-1]))  # (B, T + N - 1, V)
    np.testing.assert_array_equal(out[:, 3:], logits[:, 2:].argmax(-1))
    np.testing.assert_array_equal(model.generate(PROMPT, 8, temperature=0.0, seed=99), out)


def test_top_k_one_and_a_tiny_top_p_are_greedy(model):
    greedy = model.generate(PROMPT, 8, temperature=0.0)
    for seed in (3, 4):
        np.testing.assert_array_equal(model.generate(PROMPT, 8, top_k=1, seed=seed), greedy)
        np.testing.assert_array_equal(model.generate(PROMPT, 8, top_p=1e-6, seed=seed), greedy)


def test_top_k_samples_only_among_the_k_most_likely(model):
    out = model.generate(np.repeat(PROMPT[:1], 64, axis=0), 1, temperature=2.0, top_k=3, seed=2)
    allowed = np.argsort(np.asarray(model(PROMPT[:1]))[0, -1])[-3:]
    assert set(out[:, -1]) <= set(allowed) and len(set(out[:, -1])) > 1


def test_step_api_matches_the_full_forward_pass(model):
    states = model.initial_state(2)
    prefix_logits, states = model.prefill(PROMPT[:, :2], states)
    step_logits, _ = model.step(PROMPT[:, 2], states)
    full = np.asarray(model(PROMPT))
    np.testing.assert_allclose(prefix_logits, full[:, :2], atol=1e-5)
    np.testing.assert_allclose(step_logits, full[:, 2], atol=1e-5)


def test_stateful_model_generates_without_touching_its_carried_state():
    model = LSTMLanguageModel(V, 8, 8, num_layers=1, stateful=True, batch_size=4)
    model(np.ones((4, 3), "int32"))
    carried = [w.numpy().copy() for w in model.non_trainable_weights]
    assert model.generate(PROMPT, 3, seed=0).shape == (2, 6)  # batch 2, not 4
    for w, before in zip(model.non_trainable_weights, carried):
        np.testing.assert_array_equal(w.numpy(), before)


@pytest.mark.parametrize("kwargs, message", [
    ({"prompt_ids": [[1, V]]}, "token ids in \\[1, 30\\]"),
    ({"prompt_ids": np.zeros((2, 0), "int32")}, "length>=1"),
    ({"max_new_tokens": -1}, "max_new_tokens"),
    ({"temperature": -0.5}, "temperature"),
    ({"top_k": 0}, "top_k"),
    ({"top_p": 1.5}, "top_p"),
])
def test_bad_arguments_are_clear_errors(model, kwargs, message):
    arguments = {"prompt_ids": PROMPT, "max_new_tokens": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        model.generate(**arguments)
