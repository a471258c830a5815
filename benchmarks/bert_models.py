"""The BERT contenders and the synthetic pretraining batches they all train on.

Both libraries get the same architecture (sizes from kerasllm's presets, GELU
with the tanh approximation that keras-hub's BertBackbone hard-codes, dropout
0.1), the same optimizer (AdamW 1e-4), each library's own default loss (sparse
cross-entropy on logits, masked slots weighted 1, padded slots 0; kerasllm
averages over real masked tokens, keras-hub over all slots — one division
apart) and no metrics, so a step does the same arithmetic in both.
"""
import dataclasses

import numpy as np

import common  # noqa: F401  (environment + sys.path set-up)

LEARNING_RATE = 1e-4
ACTIVATION = "gelu_approximate"  # what keras-hub's BertBackbone uses; kerasllm's is configurable


def bert_config(preset, **overrides):
    """A kerasllm BertConfig from a preset name, e.g. ``bert_config("bert_mini")``."""
    from kerasllm.presets import load_preset
    overrides.setdefault("activation", ACTIVATION)
    return load_preset(preset, **overrides).model


def synthetic_pretraining_arrays(config, batch_size, seq_length, num_masked,
                                 num_batches=4, seed=0):
    """``num_batches`` fixed-shape MLM+NSP batches stacked on a leading axis.

    Lengths follow BERT's data: 90 % of sequences fill ``seq_length``, 10 % are
    shorter (``short_seq_prob`` 0.1), so padding exists and non-padding tokens
    differ from B·T. About 15 % of real tokens (at most ``num_masked``) are masked.
    """
    rng = np.random.default_rng(seed)
    n, b, t, p = num_batches, batch_size, seq_length, num_masked
    full = rng.random((n, b)) < 0.9
    lengths = np.where(full, t, rng.integers(min(8, t), t + 1, (n, b)))
    positions = np.arange(t)
    padding_mask = (positions < lengths[..., None]).astype("int32")        # (N, B, T)
    token_ids = rng.integers(5, config.vocabulary_size, (n, b, t)) * padding_mask
    half = (lengths // 2)[..., None]
    segment_ids = ((positions >= half) & (padding_mask == 1)).astype("int32")
    mask_positions = np.zeros((n, b, p), "int32")
    mask_weights = np.zeros((n, b, p), "float32")
    for i in range(n):
        for j in range(b):
            count = min(p, max(1, round(0.15 * (lengths[i, j] - 2))))
            chosen = np.sort(rng.choice(np.arange(1, lengths[i, j] - 1), count, replace=False))
            mask_positions[i, j, :count] = chosen
            mask_weights[i, j, :count] = 1.0
    return {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
        "mask_positions": mask_positions,
        "mask_ids": rng.integers(5, config.vocabulary_size, (n, b, p)).astype("int32"),
        "mask_weights": mask_weights,
        "nsp_labels": rng.integers(0, 2, (n, b)).astype("int32"),
    }


def pretraining_dataset(arrays, with_nsp):
    """Repeats the fixed batches forever as (x, y, sample_weight) tuples.

    ``with_nsp`` gives the MLM+NSP format of CONTRACTS.md (y and sample_weight
    dicts keyed mlm / nsp); otherwise the MLM-only format keras-hub also uses.
    """
    import tensorflow as tf
    x = {k: arrays[k] for k in ("token_ids", "segment_ids", "padding_mask", "mask_positions")}
    if with_nsp:
        y = {"mlm": arrays["mask_ids"], "nsp": arrays["nsp_labels"]}
        sw = {"mlm": arrays["mask_weights"],
              "nsp": np.ones(arrays["nsp_labels"].shape, "float32")}
    else:
        y, sw = arrays["mask_ids"], arrays["mask_weights"]
    data = tf.data.Dataset.from_tensor_slices((x, y, sw))  # one element = one batch
    return data.cache().repeat().prefetch(tf.data.AUTOTUNE)


def non_padding_tokens_per_batch(arrays):
    return float(arrays["padding_mask"].sum()) / arrays["padding_mask"].shape[0]


def _optimizer():
    import keras
    return keras.optimizers.AdamW(LEARNING_RATE, weight_decay=0.01)


def kerasllm_encoder(config):
    from kerasllm.models import BertEncoder
    return BertEncoder(**dataclasses.asdict(config))


def build_kerasllm_pretrainer(config, jit_compile):
    from kerasllm.models import BertPretrainer
    model = BertPretrainer(kerasllm_encoder(config))
    model.compile(optimizer=_optimizer(), loss="auto", metrics=None, weighted_metrics=None,
                  jit_compile=jit_compile)
    return model


def build_kerasllm_mlm(config, jit_compile):
    from kerasllm.models import BertMaskedLM
    model = BertMaskedLM(kerasllm_encoder(config))
    model.compile(optimizer=_optimizer(), loss="auto", metrics=None, weighted_metrics=None,
                  jit_compile=jit_compile)
    return model


def kerashub_backbone(config):
    import keras_hub
    return keras_hub.models.BertBackbone(
        vocabulary_size=config.vocabulary_size, num_layers=config.num_layers,
        num_heads=config.num_heads, hidden_dim=config.hidden_dim,
        intermediate_dim=config.intermediate_dim, dropout=config.dropout,
        max_sequence_length=config.max_sequence_length, num_segments=config.num_segments)


def build_kerashub_mlm(config, jit_compile):
    import keras_hub
    model = keras_hub.models.BertMaskedLM(backbone=kerashub_backbone(config), preprocessor=None)
    model.compile(optimizer=_optimizer(), loss="auto", weighted_metrics=[],
                  jit_compile=jit_compile)
    return model


# name -> (builder, whether its data carries the NSP labels)
CONTENDERS = {
    "kerasllm BertPretrainer (MLM+NSP)": (build_kerasllm_pretrainer, True),
    "kerasllm BertMaskedLM (MLM)": (build_kerasllm_mlm, False),
    "keras-hub BertMaskedLM (MLM)": (build_kerashub_mlm, False),
}
