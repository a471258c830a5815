"""Serving signatures for LSTM language-model runs.

- ``serving_default(text)`` -> ``next_token`` (B, k) string and
  ``next_token_probabilities`` (B, k): the k most likely next tokens after each prompt;
- ``generate(prompt, max_new_tokens, temperature, top_k, seed)`` -> ``text`` (B,) and
  ``token_ids`` (B, max_new_tokens): sampling runs inside the graph (``tf.while_loop``
  over the model's ``step`` API, ``kerasllm.models.generation.decode``), so a seed
  gives the same continuation as ``kerasllm generate``;
- ``predict_ids(token_ids, segment_ids, padding_mask)`` -> ``logits`` (B, T, V)
  (segment_ids / padding_mask are accepted for a uniform API and ignored).

Prompts are unfinished lines, so no ``<eos>`` is appended (as ``kerasllm generate``);
a prompt with no tokens is read as ``<eos>`` (word vocabularies) or ``[UNK]``.
"""
import numpy as np
import tensorflow as tf

from kerasllm.export.bert_signatures import IDS_SPEC
from kerasllm.export.serving_tokenizer import ServingWordPiece
from kerasllm.export.serving_word_tokenizer import ServingWords
from kerasllm.models.generation import decode

PROMPT_SPEC = tf.TensorSpec([None], tf.string, name="prompt")
GENERATE_SPECS = [PROMPT_SPEC, tf.TensorSpec([], tf.int32, name="max_new_tokens"),
                  tf.TensorSpec([], tf.float32, name="temperature"),
                  tf.TensorSpec([], tf.int32, name="top_k"),
                  tf.TensorSpec([], tf.int64, name="seed")]


class LSTMServing(tf.Module):
    """The exported module of an LSTM LM run.

    Args:
        model: the run's ``LSTMLanguageModel``.
        vocabulary: list of str tokens.
        tokenizer_type: "word" or "wordpiece" (the run's ``tokenizer.type``).
        lowercase, strip_accents: the run's tokenizer options.
        top_k: int, next tokens returned by ``serving_default``.
    """

    def __init__(self, model, vocabulary, tokenizer_type="word", lowercase=False,
                 strip_accents=True, top_k=5):
        super().__init__()
        # The SavedModel tracks the raw tf.Variables, not the Keras model: Keras 3 variables
        # are wrappers that TF1-style loading (TF Serving, saved_model_cli run) cannot
        # restore ("Could not find variable ..."), and tracking both would save weights twice.
        self.model = self._no_dependency(model)
        self.model_variables = [v.value for v in model.variables]
        self.vocabulary = tf.constant(vocabulary)
        self.wordpiece = tokenizer_type == "wordpiece"
        if self.wordpiece:
            self.tokenizer = ServingWordPiece(vocabulary, lowercase, strip_accents)
            self.empty_id = vocabulary.index("[UNK]")
        else:
            self.tokenizer = ServingWords(vocabulary, lowercase, add_eos=False)
            self.empty_id = vocabulary.index("<eos>") if "<eos>" in vocabulary else 0
        self.top_k = min(int(top_k), len(vocabulary))

    def prompt_ids(self, text):
        """(B,) strings -> int32 RaggedTensor (B, None), every row at least one id."""
        ids = self.tokenizer(text, 10**9) if self.wordpiece else self.tokenizer(text)
        empty = tf.equal(ids.row_lengths(), 0)[:, None]  # (B, 1)
        fallback = tf.ragged.boolean_mask(tf.fill(tf.shape(empty), self.empty_id), empty)
        return tf.concat([tf.cast(ids, tf.int32), fallback], axis=1)

    def detokenize(self, ids):
        """(B, T) ids -> (B,) text: tokens joined by spaces, "##" pieces glued on."""
        text = tf.strings.reduce_join(tf.gather(self.vocabulary, ids), axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " ##", "") if self.wordpiece else text

    def next_token(self, text):
        ids = self.prompt_ids(text)
        logits = self.model(ids.to_tensor(), training=False)  # (B, T, V)
        last = tf.gather(logits, ids.row_lengths() - 1, batch_dims=1)  # (B, V)
        probabilities, top_ids = tf.math.top_k(tf.nn.softmax(last, axis=-1), k=self.top_k)
        return {"next_token": tf.gather(self.vocabulary, top_ids),
                "next_token_probabilities": probabilities}

    def generate(self, prompt, max_new_tokens, temperature, top_k, seed):
        prompts = self.prompt_ids(prompt)
        max_new_tokens = tf.maximum(max_new_tokens, 0)

        def one(ids):  # prompts differ in length, so decode them one by one
            tokens = decode(self.model, ids[None, :], max_new_tokens, seed,
                            tf.maximum(temperature, 0.0), tf.maximum(top_k, 0), 1.0)
            return tokens[0, tf.shape(ids)[0]:]

        new_ids = tf.map_fn(one, prompts, fn_output_signature=tf.TensorSpec([None], tf.int32))
        new_ids = tf.reshape(new_ids, [-1, max_new_tokens])  # (B, N)
        full = tf.concat([prompts, tf.RaggedTensor.from_tensor(new_ids)], axis=1)
        return {"text": self.detokenize(full), "token_ids": new_ids}

    def signatures(self):
        """name -> concrete function, for ``tf.saved_model.save(..., signatures=...)``."""
        text_fn = tf.function(self.next_token, input_signature=[
            tf.TensorSpec([None], tf.string, name="text")])
        generate_fn = tf.function(self.generate, input_signature=GENERATE_SPECS)
        ids_fn = tf.function(lambda token_ids, segment_ids, padding_mask: {
            "logits": self.model(token_ids, training=False)}, input_signature=list(IDS_SPEC.values()))
        return {"serving_default": text_fn.get_concrete_function(),
                "generate": generate_fn.get_concrete_function(),
                "predict_ids": ids_fn.get_concrete_function()}

    def warmup_inputs(self):
        """signature name -> a small dict of example inputs."""
        return {"serving_default": {"text": ["the market", ""]},
                "generate": {"prompt": ["the market", ""], "max_new_tokens": 3,
                             "temperature": np.float32(1.0), "top_k": 5, "seed": np.int64(1)},
                "predict_ids": {"token_ids": [[1, 2, 3]], "segment_ids": [[0, 0, 0]],
                                "padding_mask": [[1, 1, 1]]}}
