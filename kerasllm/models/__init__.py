"""kerasllm models: the BERT encoder, its task models and the LSTM language model."""
from kerasllm.models.bert_encoder import BertEncoder  # noqa: F401
from kerasllm.models.bert_masked_lm import BertMaskedLM  # noqa: F401
from kerasllm.models.bert_nsp import BertNSP  # noqa: F401
from kerasllm.models.bert_pretrainer import BertPretrainer  # noqa: F401
from kerasllm.models.bert_sentence_order import BertSentenceOrder  # noqa: F401
from kerasllm.models.bert_classifier import BertClassifier  # noqa: F401
from kerasllm.models.bert_token_classifier import BertTokenClassifier  # noqa: F401
from kerasllm.models.bert_question_answering import BertQuestionAnswering  # noqa: F401
from kerasllm.models.lstm_language_model import LSTMLanguageModel  # noqa: F401
