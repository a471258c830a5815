"""MultiHeadAttention: shared layer checks, parity with keras' MHA, masks by behaviour."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasllm.layers import MultiHeadAttention
from tests.layer_test_helpers import run_layer_checks

B, T, S, D, HEADS, KEY_DIM = 2, 5, 4, 8, 2, 4


def _data(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.standard_normal((B, T, D)).astype("float32")
    value = rng.standard_normal((B, S, D)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype="int32")  # (B, S)
    return query, value, mask


def test_layer_checks_cross_attention_with_padding_mask():
    query, value, mask = _data()
    run_layer_checks(MultiHeadAttention, {"num_heads": HEADS, "key_dim": KEY_DIM, "dropout": 0.1},
                     input_data=query, input_kwargs={"value": value, "padding_mask": mask},
                     expected_output_shape=(B, T, D))


def test_layer_checks_causal_self_attention_returns_scores():
    query, _, _ = _data()
    run_layer_checks(MultiHeadAttention, {"num_heads": HEADS, "key_dim": KEY_DIM},
                     input_data=query, input_kwargs={"value": query},
                     call_kwargs={"use_causal_mask": True, "return_attention_scores": True},
                     expected_output_shape=((B, T, D), (B, HEADS, T, T)))


def _twins(key_dim=KEY_DIM, value_dim=None):
    ours = MultiHeadAttention(HEADS, key_dim, value_dim=value_dim)
    theirs = keras.layers.MultiHeadAttention(HEADS, key_dim, value_dim=value_dim)
    query, value, _ = _data()
    ours(query, value)
    theirs(query, value)
    return ours, theirs


def test_weight_shapes_equal_keras_mha():
    ours, theirs = _twins(value_dim=3)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_outputs_match_keras_mha(causal, padded):
    ours, theirs = _twins(value_dim=3)
    ours.set_weights(theirs.get_weights())
    query, value, mask = _data(1)
    if causal:
        value = query[:, :S]
        query = query[:, :S]
    out, scores = ours(query, value, padding_mask=mask if padded else None,
                       use_causal_mask=causal, return_attention_scores=True)
    # keras' attention_mask is (B, T_q, T_kv): broadcast our key padding mask over queries.
    keras_mask = np.repeat(mask[:, None, :], query.shape[1], axis=1) if padded else None
    ref, ref_scores = theirs(query, value, attention_mask=keras_mask, use_causal_mask=causal,
                             return_attention_scores=True)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5)


@pytest.mark.parametrize("same_tensor", ["query_key_value", "key_value"])
def test_fused_projections_match_keras_mha(same_tensor):
    """Projections that read one tensor share a matmul (Q, K, V in self-attention; K, V
    otherwise): same outputs as keras' MHA, head sizes of Q/K and V different."""
    ours, theirs = _twins(value_dim=3)
    ours.set_weights(theirs.get_weights())
    query, value, mask = _data(3)
    x = tf.constant(value)
    q = x if same_tensor == "query_key_value" else tf.constant(query)
    keras_mask = np.repeat(mask[:, None, :], q.shape[1], axis=1)
    for causal in (False, True):
        if causal and same_tensor == "key_value":
            continue  # causal needs T_q == T_kv
        out = ours(q, x, padding_mask=mask, use_causal_mask=causal)
        ref = theirs(q, x, attention_mask=keras_mask, use_causal_mask=causal)
        np.testing.assert_allclose(out, ref, atol=1e-5)


def test_explicit_key_matches_keras_mha():
    ours, theirs = _twins()
    ours.set_weights(theirs.get_weights())
    query, value, _ = _data(2)
    key = value[::-1].copy()
    np.testing.assert_allclose(ours(query, value, key=key), theirs(query, value, key=key),
                               atol=1e-5)


def test_changing_a_padded_token_changes_nothing():
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    query, value, mask = _data(3)
    before = layer(query, value, padding_mask=mask)
    changed = value.copy()
    changed[mask == 0] += 100.0  # only padded key/value positions
    after = layer(query, changed, padding_mask=mask)
    np.testing.assert_allclose(after, before, atol=1e-5)
    # Sanity: without the mask the same change does matter.
    assert not np.allclose(layer(query, changed), layer(query, value), atol=1e-3)


def test_changing_a_future_token_leaves_the_past_unchanged():
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    x, _, _ = _data(4)
    before = layer(x, x, use_causal_mask=True)
    changed = x.copy()
    changed[:, 3] += 100.0  # position 3 only
    after = layer(changed, changed, use_causal_mask=True)
    np.testing.assert_allclose(after[:, :3], before[:, :3], atol=1e-5)
    assert not np.allclose(after[:, 3:], before[:, 3:], atol=1e-3)


def test_padded_keys_get_zero_attention():
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    query, value, mask = _data(5)
    _, scores = layer(query, value, padding_mask=mask, return_attention_scores=True)
    scores = np.asarray(scores)  # (B, N, T, S)
    assert np.all(scores[0, :, :, 3] == 0) and np.all(scores[1, :, :, 2:] == 0)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-6)


def test_mixed_float16_softmax_is_stable_with_large_logits():
    keras.mixed_precision.set_global_policy("mixed_float16")
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    query, value, mask = _data(6)
    out, scores = layer(query * 20.0, value * 20.0, padding_mask=mask,
                        return_attention_scores=True)
    assert out.dtype == "float16"
    assert np.all(np.isfinite(np.asarray(out, "float32")))
    np.testing.assert_allclose(np.asarray(scores, "float32").sum(-1), 1.0, atol=1e-2)
