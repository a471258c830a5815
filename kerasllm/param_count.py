"""Exact parameter counts of preset architectures without building them.

Building ``bert_large`` just to count it would allocate 1.3 GB and import
TensorFlow; these closed forms mirror ``BertEncoder`` and
``LSTMLanguageModel`` layer by layer, and tests check them against built models.
"""
from kerasllm.presets import BertConfig, LSTMConfig


def bert_encoder_parameters(config: BertConfig) -> int:
    """Weights of ``BertEncoder`` (embeddings, transformer layers, pooler)."""
    h, i = config.hidden_dim, config.intermediate_dim
    embeddings = (config.vocabulary_size + config.max_sequence_length
                  + config.num_segments) * h + 2 * h  # 3 tables + LayerNorm
    attention = 4 * (h * h + h)  # query, key, value, output projections
    feed_forward = (h * i + i) + (i * h + h)
    layer = attention + feed_forward + 2 * (2 * h)  # + two LayerNorms
    pooler = h * h + h
    return embeddings + config.num_layers * layer + pooler


def lstm_language_model_parameters(config: LSTMConfig) -> int:
    """Weights of ``LSTMLanguageModel`` (embedding, stacked LSTMs, projection)."""
    v, e, u = config.vocabulary_size, config.embedding_dim, config.units
    lstms = sum(4 * u * ((e if n == 0 else u) + u) + 4 * u for n in range(config.num_layers))
    projection = v if config.tie_weights else u * v + v  # bias only when tied
    return v * e + lstms + projection


def count_parameters(model_config) -> int:
    """Parameter count of the base model a preset's ``model`` section describes."""
    if isinstance(model_config, BertConfig):
        return bert_encoder_parameters(model_config)
    if isinstance(model_config, LSTMConfig):
        return lstm_language_model_parameters(model_config)
    raise TypeError(f"expected a BertConfig or LSTMConfig, received {type(model_config).__name__}")
