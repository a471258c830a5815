"""kerasllm layers: attention, transformer blocks, embeddings, heads, LSTM blocks."""
from kerasllm.layers.dropout import Dropout  # noqa: F401
from kerasllm.layers.multi_head_attention import MultiHeadAttention  # noqa: F401
from kerasllm.layers.transformer_encoder_block import TransformerEncoderBlock  # noqa: F401
from kerasllm.layers.bert_embeddings import BertEmbeddings  # noqa: F401
from kerasllm.layers.cls_pooler import CLSPooler  # noqa: F401
from kerasllm.layers.masked_lm_head import MaskedLMHead  # noqa: F401
from kerasllm.layers.nsp_head import NSPHead  # noqa: F401
from kerasllm.layers.classification_head import ClassificationHead  # noqa: F401
from kerasllm.layers.lstm_lm_block import LSTMLMBlock  # noqa: F401
