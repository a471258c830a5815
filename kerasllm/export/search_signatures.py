"""A semantic-search index as a SavedModel: raw query text in, best documents out.

``search(query, top_k)`` (also ``serving_default``) tokenises the (B,) queries
with the core-op WordPiece, embeds them with the encoder exactly as the
``encoder`` export does (the run's pooling, L2-normalised), scores every
document by one matrix product with the stored unit embeddings and returns the
``top_k`` best: ``ids`` (B, k) string, ``texts`` (B, k) string, ``scores``
(B, k) float32 cosine similarities, best first (k = min(top_k, documents)).
Documents and embeddings are saved as variables, so stock TF Serving needs
nothing beyond core TensorFlow ops.
"""
import tensorflow as tf

QUERY_SPEC = tf.TensorSpec([None], tf.string, name="query")
TOP_K_SPEC = tf.TensorSpec([], tf.int32, name="top_k")


class SearchServing(tf.Module):
    """The exported module of an index.

    Args:
        encoder_serving: the ``BertServing`` of the index's encoder run (task encoder
            or any BERT task: only its encoder is used).
        index: the loaded ``SemanticIndex``.
    """

    def __init__(self, encoder_serving, index):
        super().__init__()
        self.encoder = encoder_serving
        self.ids = tf.Variable(index.ids, dtype=tf.string, trainable=False, name="ids")
        self.texts = tf.Variable(index.texts, dtype=tf.string, trainable=False, name="texts")
        self.embeddings = tf.Variable(index.embeddings, trainable=False,
                                      name="embeddings")  # (N, H) unit rows

    def search(self, query, top_k):
        """(B,) query strings, scalar int32 ``top_k`` -> ids, texts, scores (B, k)."""
        vectors = self.encoder.embed(self.encoder.encode(query))["embedding"]  # (B, H)
        scores = tf.matmul(vectors, self.embeddings, transpose_b=True)  # (B, N)
        k = tf.clip_by_value(top_k, 1, tf.shape(self.embeddings)[0])
        best_scores, best = tf.math.top_k(scores, k=k)  # (B, k), best first
        return {"ids": tf.gather(self.ids, best), "texts": tf.gather(self.texts, best),
                "scores": best_scores}

    def signatures(self):
        """name -> concrete function, for ``tf.saved_model.save(..., signatures=...)``."""
        fn = tf.function(self.search, input_signature=[QUERY_SPEC, TOP_K_SPEC])
        concrete = fn.get_concrete_function()
        return {"search": concrete, "serving_default": concrete}

    def warmup_inputs(self):
        """signature name -> a small dict of example inputs (one warmup request each)."""
        example = {"query": ["interest rates and the economy", ""], "top_k": 3}
        return {"search": example, "serving_default": example}
