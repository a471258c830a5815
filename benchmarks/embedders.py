"""The sentence embedders of benchmark 11: one checkpoint, three ways to run it.

Every size is one Hugging Face checkpoint folder — the real all-MiniLM-L6-v2
(``finetune_minilm.minilm_dir``), or a randomly initialised transformers ``BertModel``
of a kerasllm preset's size saved with ``save_pretrained`` beside the ``vocab.txt`` /
``tokenizer_config.json`` that ``kerasllm export-hf`` writes — which kerasllm imports
with ``kerasllm.checkpoints.import_checkpoint``. So both libraries run the same
weights and the same WordPiece vocabulary; the embeddings are compared to prove it.

Each embedder has ``all(texts)`` (N, H) in input order and ``one(text)`` (H,); all
return mean-pooled ``sequence_output`` over real tokens ([CLS] / [SEP] included),
texts cut at 128 tokens:

- ``KerasllmEmbed``: ``kerasllm.inference.embed`` (batches in length order, each cut
  to its longest row, results back in input order — the product's function);
- ``SavedModelEmbed``: the ``kerasllm export`` SavedModel, ``serving_default`` on raw
  strings, batches in input order (as requests reach a server); its output is
  L2-normalised (the export's contract);
- ``TorchEmbed``: ``BertModel`` + ``BertTokenizerFast(padding=True)`` under
  ``torch.inference_mode()``, batches in input order, or sorted by length first as
  sentence-transformers does (``sort=True``).
"""
import os

import numpy as np

import common  # noqa: F401
from torch_timing import autocast, device

SEQ_LENGTH = 128


def random_checkpoint(config, vocabulary, directory, seed=0):
    """A random-init transformers ``BertModel`` of ``config``'s size in HF layout."""
    from kerasllm.checkpoints.hf_tokenizer import write_tokenizer_files
    from torch_models import new_model
    model = new_model("BertModel", config, seed=seed)
    model.save_pretrained(directory)
    write_tokenizer_files(directory, list(vocabulary), {}, max_length=config.max_sequence_length)
    return directory


def kerasllm_run(checkpoint, run_dir):
    """``kerasllm import-hf`` of ``checkpoint``; returns the loaded run."""
    from kerasllm.checkpoints import import_checkpoint
    from kerasllm.runs import load_run
    import_checkpoint(checkpoint, run_dir, seq_length=SEQ_LENGTH, overwrite=True)
    return load_run(run_dir)


def _batches(texts, size):
    return [texts[i:i + size] for i in range(0, len(texts), size)]


class KerasllmEmbed:
    def __init__(self, run, batch):
        self.run, self.batch = run, batch

    def all(self, texts):
        from kerasllm.inference import embed
        return embed(self.run, texts, batch_size=self.batch, pooling="mean")  # normalize: the run's

    def one(self, text):
        return self.all([text])[0]


class SavedModelEmbed:
    def __init__(self, run_dir, export_dir, batch):
        import tensorflow as tf
        from kerasllm.export.exporter import export_run
        path, _, _ = export_run(run_dir, export_dir)
        self.loaded = tf.saved_model.load(str(path))  # keep the object: it owns the variables
        self.fn, self.batch = self.loaded.signatures["serving_default"], batch

    def _call(self, texts):
        import tensorflow as tf
        return self.fn(text=tf.constant(texts))["embedding"].numpy()

    def all(self, texts):
        return np.concatenate([self._call(b) for b in _batches(list(texts), self.batch)])

    def one(self, text):
        return self._call([text])[0]


class TorchEmbed:
    def __init__(self, checkpoint, batch, sort=False):
        from transformers import BertModel, BertTokenizerFast
        self.tokenizer = BertTokenizerFast.from_pretrained(checkpoint)
        self.model = BertModel.from_pretrained(checkpoint).to(device()).eval()
        self.batch, self.sort = batch, sort

    def _call(self, texts):
        import torch
        with torch.inference_mode(), autocast():  # bfloat16 on a GPU, as Keras' mixed_bfloat16
            encoded = self.tokenizer(list(texts), padding=True, truncation=True, max_length=SEQ_LENGTH,
                                     return_tensors="pt").to(device())
            hidden = self.model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            return ((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)).float().cpu().numpy()

    def all(self, texts):
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable") if self.sort else np.arange(len(texts))
        pooled = np.concatenate([self._call([texts[i] for i in b]) for b in _batches(list(order), self.batch)])
        out = np.empty_like(pooled)
        out[order] = pooled
        return out

    def one(self, text):
        return self._call([text])[0]


def max_difference(ours, theirs):
    """Largest |difference| of L2-normalised embeddings (the SavedModel returns them normalised)."""
    unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)  # noqa: E731
    return float(np.abs(unit(np.asarray(ours)) - unit(np.asarray(theirs))).max())


def bbc_sentences(count, seed=0):
    """``count`` sentences of the BBC News test articles (titles left out), shuffled."""
    from kerasllm.data.datasets import bbc_news, split_sentences
    rows = [s for d in bbc_news("test") for line in d.lines[1:] for s in split_sentences(line) if s.strip()]
    return [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))[:count]]


def checkpoint_for(size, settings, context, work):
    """The HF checkpoint folder of ``size`` ("minilm" = the real all-MiniLM-L6-v2)."""
    if size == "minilm":
        from finetune_minilm import minilm_dir
        return minilm_dir()
    from bert_models import bert_config
    from finetune_throughput import training_vocabulary
    vocabulary = training_vocabulary(settings.finetune_vocab_size, context)
    overrides = dict(settings.bert_overrides, vocabulary_size=len(vocabulary))
    if "max_sequence_length" in overrides:  # tiny mode's shrunken table: still room for 128
        overrides["max_sequence_length"] = max(SEQ_LENGTH, overrides["max_sequence_length"])
    return random_checkpoint(bert_config(size, **overrides), vocabulary, os.path.join(work, size))
