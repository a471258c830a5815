"""BERT building blocks: shared layer checks plus behaviour of each layer."""
import numpy as np
import pytest

from kerasllm.layers import (BertEmbeddings, ClassificationHead, CLSPooler, MaskedLMHead,
                             NSPHead, TransformerEncoderBlock)
from tests.layer_test_helpers import run_layer_checks

B, T, H, V = 2, 6, 16, 50
RNG = np.random.default_rng(0)
X = RNG.standard_normal((B, T, H)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype="int32")
TOKENS = RNG.integers(0, V, (B, T)).astype("int32")
SEGMENTS = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]], dtype="int32")
POSITIONS = np.array([[1, 3, 0], [2, 5, 4]], dtype="int32")


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_layer_checks(norm_first):
    run_layer_checks(TransformerEncoderBlock,
                     {"num_heads": 2, "intermediate_dim": 32, "norm_first": norm_first},
                     input_data=X, input_kwargs={"padding_mask": MASK},
                     expected_output_shape=(B, T, H))


def test_encoder_block_ignores_padded_tokens():
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=32)
    before = block(X, padding_mask=MASK)
    changed = X.copy()
    changed[0, 4:] += 50.0
    after = block(changed, padding_mask=MASK)
    np.testing.assert_allclose(after[0, :4], before[0, :4], atol=1e-5)
    np.testing.assert_allclose(after[1], before[1], atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_query_positions_equal_the_full_output_gathered(norm_first):
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=32, norm_first=norm_first)
    full = np.asarray(block(X, padding_mask=MASK))
    some = np.asarray(block(X, padding_mask=MASK, query_positions=POSITIONS))
    assert some.shape == (B, POSITIONS.shape[1], H)
    np.testing.assert_allclose(some, np.take_along_axis(full, POSITIONS[:, :, None], 1),
                               atol=1e-5)


def test_encoder_block_post_ln_output_is_normalised_and_pre_ln_is_not():
    post = TransformerEncoderBlock(num_heads=2, intermediate_dim=32, dropout=0.0)(X * 10)
    np.testing.assert_allclose(np.mean(post, -1), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.std(post, -1), 1.0, atol=1e-3)
    pre = TransformerEncoderBlock(num_heads=2, intermediate_dim=32, norm_first=True)(X * 10)
    assert np.std(pre) > 3.0  # the residual stream keeps its scale


def test_encoder_block_gelu_variants_differ_and_bad_name_fails():
    exact = TransformerEncoderBlock(2, 32, activation="gelu")
    exact(X)
    approx = TransformerEncoderBlock(2, 32, activation="gelu_approximate")
    approx(X)
    approx.set_weights(exact.get_weights())
    difference = np.abs(np.asarray(exact(X)) - np.asarray(approx(X))).max()
    assert 0 < difference < 1e-2
    with pytest.raises(ValueError, match="swish"):
        TransformerEncoderBlock(2, 32, activation="swish")


def test_gelu_is_keras_exact_gelu():
    import keras

    from kerasllm.layers.activations import gelu
    x = np.linspace(-8, 8, 4001).astype("float32")
    np.testing.assert_allclose(np.asarray(gelu(x)),
                               np.asarray(keras.activations.gelu(x, approximate=False)), atol=1e-6)


@pytest.mark.parametrize("lora", [False, True])
def test_encoder_block_feed_forward_equals_its_dense_sublayers(lora):
    """The fused 2-D feed-forward path reads the Dense kernels (LoRA's included) exactly."""
    block = TransformerEncoderBlock(num_heads=2, intermediate_dim=32, dropout=0.0)
    block(X)
    if lora:
        for dense in (block.intermediate_dense, block.output_dense):
            dense.enable_lora(4)
            dense.lora_kernel_b.assign(RNG.standard_normal(dense.lora_kernel_b.shape) * 0.1)
    from kerasllm.layers.activations import gelu
    expected = block.output_dense(gelu(block.intermediate_dense(X)))  # Keras' own Dense calls
    got = block._feed_forward_branch(X, training=False)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-5)
    if lora:  # and LoRA really changed it
        plain = np.asarray(X.reshape(-1, H) @ block.intermediate_dense._kernel.numpy())
        assert np.abs(plain - np.asarray(block.intermediate_dense(X)).reshape(-1, 32)
                      + block.intermediate_dense.bias.numpy()).max() > 1e-3


def test_encoder_block_rejects_hidden_not_divisible_by_heads():
    with pytest.raises(ValueError, match="divisible"):
        TransformerEncoderBlock(num_heads=3, intermediate_dim=8)(X)


def test_embeddings_layer_checks():
    run_layer_checks(BertEmbeddings, {"vocabulary_size": V, "hidden_dim": H,
                                      "max_sequence_length": 10},
                     input_data=TOKENS, input_kwargs={"segment_ids": SEGMENTS},
                     expected_output_shape=(B, T, H))


def test_embeddings_are_token_plus_position_plus_segment_normalised():
    layer = BertEmbeddings(V, H, max_sequence_length=10, dropout=0.0)
    out = np.asarray(layer(TOKENS, SEGMENTS))
    table = layer.token_embedding.embeddings.numpy()
    summed = (table[TOKENS] + layer.position_embeddings.numpy()[:T][None]
              + layer.segment_embedding.embeddings.numpy()[SEGMENTS])
    expected = (summed - summed.mean(-1, keepdims=True)) / np.sqrt(
        summed.var(-1, keepdims=True) + 1e-12)
    np.testing.assert_allclose(out, expected, atol=1e-4)
    assert table.shape == (V, H)
    np.testing.assert_allclose(layer(TOKENS), layer(TOKENS, np.zeros_like(TOKENS)))


def test_pooler_and_classification_head_layer_checks():
    run_layer_checks(CLSPooler, {}, input_data=X, expected_output_shape=(B, H))
    run_layer_checks(ClassificationHead, {"num_classes": 3}, input_data=X[:, 0],
                     expected_output_shape=(B, 3), mixed_precision_output_dtype="float32")
    run_layer_checks(ClassificationHead, {"num_classes": 3}, input_data=X,  # per token (NER)
                     expected_output_shape=(B, T, 3), mixed_precision_output_dtype="float32")


@pytest.mark.parametrize("use_pooler", [False, True])
def test_nsp_head_layer_checks(use_pooler):
    run_layer_checks(NSPHead, {"use_pooler": use_pooler}, input_data=X if use_pooler else X[:, 0],
                     expected_output_shape=(B, 2), mixed_precision_output_dtype="float32")


def test_nsp_head_pooler_uses_only_the_cls_token():
    head = NSPHead(use_pooler=True)
    changed = X.copy()
    changed[:, 1:] = 0.0
    np.testing.assert_allclose(head(changed), head(X))


def test_masked_lm_head_layer_checks():
    run_layer_checks(MaskedLMHead, {"vocabulary_size": V}, input_data=(X, POSITIONS),
                     expected_output_shape=(B, 3, V), mixed_precision_output_dtype="float32")


def test_masked_lm_head_gathers_positions_and_ties_embeddings():
    embeddings = BertEmbeddings(V, H, max_sequence_length=10)
    embeddings(TOKENS)
    head = MaskedLMHead(V, token_embedding=embeddings.token_embedding)
    logits = np.asarray(head(X, POSITIONS))
    # Same rows at the same positions give the same logits, whatever the batch order.
    one = np.asarray(head(X[1:], POSITIONS[1:, :1]))
    np.testing.assert_allclose(one[0, 0], logits[1, 0], atol=1e-5)
    # The projection is the embedding table: tables change → logits change.
    table = embeddings.token_embedding.embeddings
    table.assign(table.numpy() * 2.0)
    assert not np.allclose(np.asarray(head(X, POSITIONS)), logits, atol=1e-3)
    assert "output_kernel" not in [w.name for w in head.weights]


def test_embeddings_reject_sequences_longer_than_the_position_table():
    layer = BertEmbeddings(V, H, max_sequence_length=4)
    with pytest.raises(ValueError, match="length 6, longer than max_sequence_length=4"):
        layer(TOKENS)
