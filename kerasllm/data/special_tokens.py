"""BERT's special tokens, defined once for the tokenizers, vocabularies, exporters and importers.

A plain-Python module (no TensorFlow), so the CLI's early checks and the
Hugging Face tokenizer reader can use it cheaply.
"""
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
