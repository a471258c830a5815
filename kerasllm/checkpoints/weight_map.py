"""One table that pairs every kerasllm BERT variable with its Hugging Face tensor.

Import (HF -> Keras) and export (Keras -> HF) both walk this table, so the
two directions cannot drift apart. Names are HF's without the ``bert.``
prefix. Layouts differ only by a transpose and a reshape: torch ``Linear``
stores ``(out, in)``, Keras ``Dense`` ``(in, out)``, and the attention
projections split ``heads * head_dim`` into two axes (see
``kerasllm.layers.multi_head_attention``).

keras-hub ships a converter for its own ``BertBackbone``; ours is written
here because the target is kerasllm's ``BertEncoder`` and because a single
table lets us report every missing / unexpected / mis-shaped tensor at once.
"""
import dataclasses
import math

import numpy as np


@dataclasses.dataclass
class Entry:
    """``variable`` <-> HF tensor ``hf_name``.

    ``in_axes`` is None for tensors copied as they are (embedding tables,
    LayerNorm, biases, flattened to HF's 1-D shape) and, for kernels, the
    number of leading Keras axes that form the input dimension.
    """
    hf_name: str
    variable: object
    in_axes: int = None

    @property
    def hf_shape(self):
        shape = tuple(self.variable.shape)
        if self.in_axes is None:
            is_table = self.hf_name.startswith("embeddings.") and len(shape) == 2
            return shape if is_table else (math.prod(shape),)  # biases: (N, h) -> (N*h,)
        return (math.prod(shape[self.in_axes:]), math.prod(shape[:self.in_axes]))

    def assign(self, value):
        value = np.asarray(value, dtype="float32")
        if self.in_axes is not None:
            value = value.T  # (out, in) -> (in, out)
        self.variable.assign(value.reshape(tuple(self.variable.shape)))

    def read(self):
        value = np.asarray(self.variable, dtype="float32")
        if self.in_axes is None:
            return value.reshape(self.hf_shape)
        return value.reshape(self.hf_shape[::-1]).T  # (in, out) -> (out, in)


def _dense(prefix, layer, in_axes=1):
    return [Entry(f"{prefix}.weight", layer.kernel, in_axes), Entry(f"{prefix}.bias", layer.bias)]


def _norm(prefix, layer):
    return [Entry(f"{prefix}.weight", layer.gamma), Entry(f"{prefix}.bias", layer.beta)]


def encoder_entries(encoder):
    """Entries of a ``BertEncoder``: embeddings, every layer, pooler."""
    emb = encoder.embeddings
    entries = [
        Entry("embeddings.word_embeddings.weight", emb.token_embedding.embeddings),
        Entry("embeddings.position_embeddings.weight", emb.position_embeddings),
        Entry("embeddings.token_type_embeddings.weight", emb.segment_embedding.embeddings),
        *_norm("embeddings.LayerNorm", emb.layer_norm),
    ]
    for i, block in enumerate(encoder.transformer_layers):
        p = f"encoder.layer.{i}"
        attention = block.attention
        entries += _dense(f"{p}.attention.self.query", attention.query_dense)  # (D, N, h)
        entries += _dense(f"{p}.attention.self.key", attention.key_dense)
        entries += _dense(f"{p}.attention.self.value", attention.value_dense)
        entries += _dense(f"{p}.attention.output.dense", attention.output_dense, in_axes=2)
        entries += _norm(f"{p}.attention.output.LayerNorm", block.attention_layer_norm)
        entries += _dense(f"{p}.intermediate.dense", block.intermediate_dense)
        entries += _dense(f"{p}.output.dense", block.output_dense)
        entries += _norm(f"{p}.output.LayerNorm", block.output_layer_norm)
    entries += _dense("pooler.dense", encoder.pooler.dense)
    return entries


def _mlm_entries(head):
    entries = _dense("cls.predictions.transform.dense", head.dense)
    entries += _norm("cls.predictions.transform.LayerNorm", head.layer_norm)
    entries.append(Entry("cls.predictions.bias", head.output_bias))
    if head.token_embedding is None:  # untied head: its own (H, V) decoder
        entries.append(Entry("cls.predictions.decoder.weight", head.output_kernel, 1))
    return entries


# HF head prefix (a task's ``hf_heads`` in kerasllm.tasks) -> the entries of that head.
HEADS = {
    "cls.predictions": lambda model: _mlm_entries(model.masked_lm_head),
    "cls.seq_relationship": lambda model: _dense("cls.seq_relationship", model.nsp_head.dense),
    "classifier": lambda model: _dense("classifier", model.classification_head.dense),
    "qa_outputs": lambda model: _dense("qa_outputs", model.classification_head.dense),
}


def weight_entries(model, task):
    """All entries of a task model (``encoder`` task: the ``BertEncoder`` itself)."""
    from kerasllm import tasks

    if task == "encoder":
        return encoder_entries(model)
    entries = encoder_entries(model.encoder)
    for head in tasks.get(task).hf_heads:
        entries += HEADS[head](model)
    return entries
