"""Text pipeline: corpora, tokenizers, vocabularies and tf.data datasets for kerasllm models.

Names are imported on first use (PEP 562), so ``kerasllm.data.corpus`` and the
other pure-Python modules load without TensorFlow: the CLI checks a corpus,
vocab.txt or CSV before it pays the TensorFlow import.
"""
import importlib

_EXPORTS = {
    "kerasllm.data.classification": (
        "ClassificationData", "classification_dataset", "encode_labels", "label_vocabulary",
        "read_classification_file", "write_labels"),
    "kerasllm.data.corpus": (
        "CorpusStats", "Document", "iter_documents", "read_documents", "write_bert_corpus"),
    "kerasllm.data.datasets": (
        "BBC_LABELS", "bbc_news", "write_bbc_classification", "write_bbc_corpus"),
    "kerasllm.data.language_modeling": ("corpus_token_stream", "lm_dataset", "token_stream"),
    "kerasllm.data.packing": ("pack_inputs", "trim_to_longest"),
    "kerasllm.data.tokenizer": ("SPECIAL_TOKENS", "WordPieceTokenizer", "read_vocabulary"),
    "kerasllm.data.tokenizer_loading": ("load_tokenizer",),
    "kerasllm.data.vocab": ("build_vocabulary", "learn_vocabulary", "write_vocabulary"),
    "kerasllm.data.word_tokenizer": (
        "WordTokenizer", "build_word_vocabulary", "learn_word_vocabulary"),
    "kerasllm.data.masking": ("VocabularyInfo", "mask_batch"),
    "kerasllm.data.pretraining_examples": (
        "PretrainingConfig", "pack_pairs", "plan_epoch", "to_task_format"),
    "kerasllm.data.pretraining_summary": ("PretrainingSummary",),
    "kerasllm.data.streaming": ("streaming_pretraining_dataset",),
    "kerasllm.data.tfrecords": ("load_pretraining_dataset", "write_pretraining_shards"),
    "kerasllm.data.tokenized_corpus": ("TokenizedCorpus",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'kerasllm.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
