"""kerasllm layers: attention, transformer blocks, embeddings, heads, LSTM blocks."""
from kerasllm.layers.multi_head_attention import MultiHeadAttention  # noqa: F401
from kerasllm.layers.lstm_lm_block import LSTMLMBlock  # noqa: F401
