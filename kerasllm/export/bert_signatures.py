"""Serving signatures for BERT runs: raw text in, predictions out, all in core TF ops.

``BertServing`` holds the Keras task model (so ``tf.saved_model.save`` writes its
variables) and the core-op tokenizer, and exposes per task:

- classify / nsp / sop: ``serving_default(text[, text_pair])`` -> ``probabilities``
  (B, C), ``label_id`` (B,), ``label`` (B,) string;
- mlm / mlm+nsp: ``serving_default(text)`` -> ``top_tokens`` (B, M, k) string and
  ``top_probabilities`` (B, M, k) for each ``[MASK]`` (M = most masks in the batch;
  missing masks give "" and 0);
- encoder: ``serving_default(text)`` -> ``embedding`` (B, H) (the run's pooling: mean
  over real tokens or the [CLS] vector; L2-normalised) and ``pooled_output`` (B, H);
- every task: ``predict_ids(token_ids, segment_ids, padding_mask)`` -> raw model outputs.
"""
import tensorflow as tf

from kerasllm.export.serving_packer import pack_ids
from kerasllm.export.serving_tokenizer import ServingWordPiece

IDS_SPEC = {name: tf.TensorSpec([None, None], tf.int32, name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")}
TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")
PAIR_SPEC = tf.TensorSpec([None], tf.string, name="text_pair")
PAIR_LABELS = {"nsp": ["is_next", "random"], "sop": ["in_order", "swapped"]}
CLASSIFY_TASKS = ("classify", "nsp", "sop")
MLM_TASKS = ("mlm", "mlm+nsp")


class BertServing(tf.Module):
    """The exported module of a BERT run.

    Args:
        model: the run's Keras task model (or ``BertEncoder`` for task "encoder").
        task: the run's task (classify, nsp, sop, mlm, mlm+nsp, encoder).
        vocabulary: list of str tokens.
        seq_length: int, texts are truncated / padded to this many tokens.
        lowercase, strip_accents: the run's tokenizer options.
        labels: class names (classifiers); None gives "0", "1", ...
        text_pair: bool, the classifier takes ``text_pair`` too.
        top_k: int, predictions kept per ``[MASK]``.
        pooling: "mean" or "cls", how ``embedding`` pools the token vectors.
    """

    def __init__(self, model, task, vocabulary, seq_length, lowercase=True, strip_accents=True,
                 labels=None, text_pair=False, top_k=5, pooling="mean"):
        super().__init__()
        # The SavedModel tracks the raw tf.Variables, not the Keras model: Keras 3 variables
        # are wrappers that TF1-style loading (TF Serving, saved_model_cli run) cannot
        # restore ("Could not find variable ..."), and tracking both would save weights twice.
        self.model = self._no_dependency(model)
        self.model_variables = [v.value for v in model.variables]
        self.task = task
        self.seq_length = int(seq_length)
        self.tokenizer = ServingWordPiece(vocabulary, lowercase, strip_accents)
        self.vocabulary = tf.constant(vocabulary)
        ids = {t: vocabulary.index(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[MASK]")}
        self.pad_id, self.cls_id, self.sep_id, self.mask_id = (
            ids["[PAD]"], ids["[CLS]"], ids["[SEP]"], ids["[MASK]"])
        self.text_pair = bool(text_pair) or task in PAIR_LABELS
        if task in CLASSIFY_TASKS:
            labels = labels or PAIR_LABELS.get(task)
            labels = labels or [str(i) for i in range(model.outputs[0].shape[-1])]
            self.labels = tf.constant(labels)
        self.top_k = min(int(top_k), len(vocabulary))
        self.pooling = pooling

    # -- shared steps ----------------------------------------------------------

    def encode(self, text, text_pair=None):
        """(B,) strings -> packed int32 inputs (B, seq_length)."""
        a = self.tokenizer.token_list(text, self.seq_length)
        b = None if text_pair is None else self.tokenizer.token_list(text_pair, self.seq_length)
        return pack_ids(a, b, self.seq_length, self.cls_id, self.sep_id, self.pad_id)

    def _encoder(self):
        return getattr(self.model, "encoder", self.model)

    def _mlm_logits(self, inputs, positions):
        outputs = self.model({**inputs, "mask_positions": positions}, training=False)
        return outputs["mlm"] if isinstance(outputs, dict) else outputs  # (B, P, V)

    # -- raw-text outputs ------------------------------------------------------

    def classify(self, inputs):
        probabilities = tf.nn.softmax(self.model(inputs, training=False), axis=-1)  # (B, C)
        label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)  # (B,)
        return {"probabilities": probabilities, "label_id": label_id,
                "label": tf.gather(self.labels, label_id)}

    def fill_masks(self, inputs):
        is_mask = tf.equal(inputs["token_ids"], self.mask_id)  # (B, T)
        positions = tf.ragged.boolean_mask(
            tf.broadcast_to(tf.range(tf.shape(is_mask)[1]), tf.shape(is_mask)), is_mask)
        real = tf.ones_like(positions).to_tensor()  # (B, M) 1 where a mask is
        width = tf.maximum(tf.shape(real)[1], 1)  # at least one slot, so shapes stay defined
        real = tf.pad(real, [[0, 0], [0, width - tf.shape(real)[1]]])
        positions = positions.to_tensor(shape=tf.shape(real))  # (B, M), padded with 0
        probabilities = tf.nn.softmax(self._mlm_logits(inputs, positions), axis=-1)  # (B, M, V)
        top_probabilities, top_ids = tf.math.top_k(probabilities, k=self.top_k)  # (B, M, k)
        real = tf.cast(real, tf.bool)[:, :, None]
        return {"top_tokens": tf.where(real, tf.gather(self.vocabulary, top_ids), ""),
                "top_probabilities": tf.where(real, top_probabilities, 0.0)}

    def embed(self, inputs):
        outputs = self._encoder()(inputs, training=False)
        if self.pooling == "cls":
            pooled = outputs["sequence_output"][:, 0]  # (B, H)
        else:
            mask = tf.cast(inputs["padding_mask"], tf.float32)[:, :, None]  # (B, T, 1)
            pooled = tf.reduce_sum(outputs["sequence_output"] * mask, axis=1) / tf.maximum(
                tf.reduce_sum(mask, axis=1), 1.0)  # (B, H)
        return {"embedding": tf.math.l2_normalize(pooled, axis=-1),
                "pooled_output": outputs["pooled_output"]}

    def from_text(self, inputs):
        if self.task in CLASSIFY_TASKS:
            return self.classify(inputs)
        if self.task in MLM_TASKS:
            return self.fill_masks(inputs)
        return self.embed(inputs)

    # -- ids-only outputs --------------------------------------------------------

    def from_ids(self, inputs):
        if self.task in MLM_TASKS:  # logits at every position
            shape = tf.shape(inputs["token_ids"])
            positions = tf.broadcast_to(tf.range(shape[1]), shape)
            outputs = self.model({**inputs, "mask_positions": positions}, training=False)
            if isinstance(outputs, dict):
                return {"logits": outputs["mlm"], "nsp_logits": outputs["nsp"]}
            return {"logits": outputs}
        if self.task == "encoder":
            outputs = self.model(inputs, training=False)
            return {k: outputs[k] for k in ("sequence_output", "pooled_output")}
        return {"logits": self.model(inputs, training=False)}

    def signatures(self):
        """name -> concrete function, for ``tf.saved_model.save(..., signatures=...)``."""
        if self.text_pair:
            text_fn = tf.function(lambda text, text_pair: self.from_text(self.encode(text, text_pair)),
                                  input_signature=[TEXT_SPEC, PAIR_SPEC])
        else:
            text_fn = tf.function(lambda text: self.from_text(self.encode(text)),
                                  input_signature=[TEXT_SPEC])
        ids_fn = tf.function(lambda token_ids, segment_ids, padding_mask: self.from_ids(
            {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask}),
            input_signature=list(IDS_SPEC.values()))
        return {"serving_default": text_fn.get_concrete_function(),
                "predict_ids": ids_fn.get_concrete_function()}

    def warmup_inputs(self):
        """signature name -> a small dict of numpy-able example inputs."""
        texts = ["The [MASK] rose sharply." if self.task in MLM_TASKS else "Shares rose sharply.",
                 ""]
        text_inputs = {"text": texts}
        if self.text_pair:
            text_inputs["text_pair"] = ["Markets were calm.", ""]
        ids = [[self.cls_id, self.sep_id, self.pad_id]] * 2
        return {"serving_default": text_inputs,
                "predict_ids": {"token_ids": ids, "segment_ids": [[0, 0, 0]] * 2,
                                "padding_mask": [[1, 1, 0]] * 2}}
