"""Text pipeline: corpora, tokenizers, vocabularies and tf.data datasets for kerasllm models."""
from kerasllm.data.classification import (  # noqa: F401
    ClassificationData, classification_dataset, encode_labels, label_vocabulary, read_classification_file,
    write_labels)
from kerasllm.data.corpus import CorpusStats, Document, iter_documents, read_documents, write_bert_corpus  # noqa: F401
from kerasllm.data.datasets import BBC_LABELS, bbc_news, write_bbc_classification, write_bbc_corpus  # noqa: F401,E501
from kerasllm.data.language_modeling import corpus_token_stream, lm_dataset, token_stream  # noqa: F401
from kerasllm.data.packing import pack_inputs, trim_to_longest  # noqa: F401
from kerasllm.data.tokenizer import SPECIAL_TOKENS, WordPieceTokenizer, read_vocabulary  # noqa: F401
from kerasllm.data.tokenizer_loading import load_tokenizer  # noqa: F401
from kerasllm.data.vocab import build_vocabulary, learn_vocabulary, write_vocabulary  # noqa: F401
from kerasllm.data.word_tokenizer import WordTokenizer, build_word_vocabulary, learn_word_vocabulary  # noqa: F401
from kerasllm.data.masking import VocabularyInfo, mask_batch  # noqa: F401
from kerasllm.data.pretraining_examples import PretrainingConfig, pack_pairs, plan_epoch, to_task_format  # noqa: F401
from kerasllm.data.pretraining_summary import PretrainingSummary  # noqa: F401
from kerasllm.data.streaming import streaming_pretraining_dataset  # noqa: F401
from kerasllm.data.tfrecords import load_pretraining_dataset, write_pretraining_shards  # noqa: F401
from kerasllm.data.tokenized_corpus import TokenizedCorpus  # noqa: F401
