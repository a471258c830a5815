"""Word-level LSTM language model (Zaremba et al. 2014): embed -> stacked LSTMs -> softmax."""
import dataclasses
import types

import keras
import tensorflow as tf
from keras import ops

from kerasllm.errors import ConfigError
from kerasllm.layers.lstm_lm_block import LSTMLMBlock, uniform_or_default
from kerasllm.models.generation import decode, generate_numpy
from kerasllm.presets import LSTMConfig, load_preset

_DECODE_SIGNATURE = (
    tf.TensorSpec([None, None], tf.int32),  # prompt_ids (B, T)
    tf.TensorSpec([], tf.int32),            # max_new_tokens
    tf.TensorSpec([], tf.int64),            # seed
    tf.TensorSpec([], tf.float32),          # temperature
    tf.TensorSpec([], tf.int32),            # top_k (0: off)
    tf.TensorSpec([], tf.float32),          # top_p (1.0: off)
)


@keras.saving.register_keras_serializable(package="kerasllm")
class LSTMLanguageModel(keras.Model):
    """Next-token LSTM language model: token ids (B, T) -> logits (B, T, V).

    Token embedding, an `LSTMLMBlock` (stacked LSTMs with Zaremba dropout on
    the non-recurrent connections) and a softmax projection with a bias. With
    `tie_weights=True` the projection reuses the embedding matrix (Press &
    Wolf, 2016), which needs `embedding_dim == units`. Logits are float32 even
    under a mixed-precision policy.

    With `stateful=True` the final LSTM states of one batch are the initial
    states of the next, for truncated backpropagation through time over
    consecutive windows (row i of batch t+1 continues row i of batch t; feed
    `fit` fixed-size batches without shuffling). `reset_states()` zeroes them.

    Args:
        vocabulary_size: int. Number of token ids.
        embedding_dim: int. Size of the token embeddings.
        units: int. Hidden size of every LSTM layer.
        num_layers: int. Number of stacked LSTM layers.
        dropout: float. Dropout on the non-recurrent connections. Defaults to `0.0`.
        tie_weights: bool. Share the embedding matrix with the output
            projection. Defaults to `False`.
        init_scale: float. Every weight starts from
            `uniform(-init_scale, init_scale)`. Defaults to `0.1`.
        stateful: bool. Carry LSTM states across batches. Defaults to `False`.
        batch_size: int or None. The fixed batch size; required when
            `stateful=True`.
        **kwargs: passed to `keras.Model` (`name`, `dtype`, ...).

    Call arguments:
        inputs: int tensor `(batch_size, sequence_length)` of token ids, or a
            dict with that tensor under `"token_ids"`.
        training: bool. Whether dropout is active.

    Example:
    ```python
    model = kerasllm.models.LSTMLanguageModel.from_preset("lstm_small", vocabulary_size=50)
    model.compile(optimizer="adam", loss="auto")  # sparse CE from logits
    model.fit(token_ids[:, :-1], token_ids[:, 1:], epochs=1)
    model.generate(np.array([[1, 2, 3]]), max_new_tokens=5, top_k=10, seed=0)
    ```
    """

    def __init__(self, vocabulary_size, embedding_dim, units, num_layers, dropout=0.0,
                 tie_weights=False, init_scale=0.1, stateful=False, batch_size=None, **kwargs):
        super().__init__(**kwargs)
        if tie_weights and embedding_dim != units:
            raise ValueError(
                f"tie_weights=True shares the embedding matrix with the output projection and "
                f"needs embedding_dim == units, received embedding_dim={embedding_dim}, "
                f"units={units}; set them equal or use tie_weights=False.")
        if stateful and not batch_size:
            raise ValueError("stateful=True carries LSTM states per batch row and needs a fixed "
                             f"`batch_size`, received batch_size={batch_size}.")
        self.vocabulary_size = int(vocabulary_size)
        self.embedding_dim = int(embedding_dim)
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.dropout = float(dropout)
        self.tie_weights = bool(tie_weights)
        self.init_scale = float(init_scale)
        self.stateful = bool(stateful)
        self.batch_size = int(batch_size) if batch_size else None
        self.build((self.batch_size, None))

    def build(self, input_shape=None):
        if isinstance(input_shape, dict):
            input_shape = input_shape["token_ids"]
        batch_size = self.batch_size if input_shape is None else input_shape[0]
        self.token_embedding = keras.layers.ReversibleEmbedding(
            self.vocabulary_size, self.embedding_dim, tie_weights=True,
            embeddings_initializer=uniform_or_default(self.init_scale, "uniform"),
            reverse_dtype="float32", dtype=self.dtype_policy, name="token_embedding")
        self.token_embedding.build((batch_size, None))
        self.lstm_block = LSTMLMBlock(
            self.units, self.num_layers, dropout=self.dropout, init_scale=self.init_scale,
            stateful=self.stateful, dtype=self.dtype_policy, name="lstm_block")
        self.lstm_block.build((batch_size, None, self.embedding_dim))
        if self.tie_weights:  # logits = h @ embeddingsᵀ + bias, in float32
            self.output_projection = None
            self.output_bias = self.add_weight(
                shape=(self.vocabulary_size,), autocast=False,
                initializer=uniform_or_default(self.init_scale, "zeros"),
                name="output_bias")
        else:
            self.output_projection = keras.layers.Dense(
                self.vocabulary_size, kernel_initializer=uniform_or_default(self.init_scale, "glorot_uniform"),
                # Zaremba et al. initialise every parameter, the softmax bias too, uniformly.
                bias_initializer=uniform_or_default(self.init_scale, "zeros"),
                dtype="float32", name="output_projection")
            self.output_projection.build((batch_size, None, self.units))
        self.built = True

    def _logits(self, hidden):
        """(..., U) hidden states -> (..., V) float32 logits."""
        if self.tie_weights:
            return self.token_embedding(hidden, reverse=True) + self.output_bias
        return self.output_projection(hidden)

    def _token_ids(self, inputs):
        if isinstance(inputs, dict):
            if "token_ids" not in inputs:
                raise ValueError("LSTMLanguageModel takes a (batch, length) tensor of token ids "
                                 f"or a dict with key 'token_ids', received keys {sorted(inputs)}.")
            inputs = inputs["token_ids"]
        return ops.cast(inputs, "int32")

    def call(self, inputs, training=None):
        x = self.token_embedding(self._token_ids(inputs))  # (B, T, E)
        x = self.lstm_block(x, training=training)  # (B, T, U)
        return self._logits(x)  # (B, T, V) float32

    # -- recurrent step API (graph friendly; used by generate and SavedModel export) --

    def initial_state(self, batch_size):
        """Zero `[h, c]` states, one pair per layer, each (batch_size, units)."""
        return self.lstm_block.get_initial_state(batch_size)

    def prefill(self, token_ids, states):
        """Run (B, T) ids from `states` -> (logits (B, T, V) float32, new states)."""
        x = self.token_embedding(self._token_ids(token_ids))  # (B, T, E)
        x, states = self.lstm_block(x, initial_state=states, return_state=True, training=False)
        return self._logits(x), states

    def step(self, token_ids, states):
        """One token per row: (B,) ids -> (logits (B, V) float32, new states)."""
        logits, states = self.prefill(self._token_ids(token_ids)[:, None], states)
        return logits[:, 0], states

    def reset_states(self):
        """Zero the carried LSTM states (stateful models; no-op otherwise)."""
        self.lstm_block.reset_states()

    def generate(self, prompt_ids, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 seed=None):
        """Sample a continuation: returns prompt + `max_new_tokens` ids, int32.

        Args:
            prompt_ids: int array (B, T) (or (T,), giving a (T + N,) result).
            max_new_tokens: int >= 0. Tokens to add.
            temperature: float. 0 is greedy (argmax); higher is more random.
            top_k: int or None. Sample only among the k most likely tokens.
            top_p: float or None. Sample only from the smallest set of tokens
                whose probability reaches `top_p` (nucleus sampling).
            seed: int or None. Equal seeds give equal outputs.

        Returns:
            `np.ndarray` int32 of shape (B, T + max_new_tokens).
        """
        if getattr(self, "_decode_cache", None) is None:
            # One trace serves every prompt shape and sampling setting. The
            # namespace hides the tf.function from SavedModel export, which
            # would otherwise trace it as a child of the model.
            self._decode_cache = types.SimpleNamespace(fn=tf.function(
                lambda *args: decode(self, *args), input_signature=_DECODE_SIGNATURE))
        return generate_numpy(self._decode_cache.fn, self.vocabulary_size, prompt_ids,
                              max_new_tokens, temperature, top_k, top_p, seed)

    def compile(self, optimizer="adam", loss="auto", **kwargs):
        """`keras.Model.compile`; `loss="auto"` is sparse cross-entropy on the logits."""
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def compile_from_config(self, config):
        # Keras skips compile on load when compile() is overridden; ours is safe to call.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.optimizer is not None:  # build its slots so saved optimizer state loads
            self.optimizer.build(self.trainable_variables)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """Build from an `lstm_*` preset (or YAML path); `kwargs` override its model fields.

        `stateful`, `batch_size`, `name` and `dtype` go to the constructor.
        """
        fields = {f.name for f in dataclasses.fields(LSTMConfig)}
        loaded = load_preset(preset, **{k: v for k, v in kwargs.items() if k in fields})
        if loaded.family != "lstm":
            raise ConfigError(
                f"{loaded.path}: key 'family': LSTMLanguageModel needs an lstm preset, received "
                f"{loaded.name!r} (family {loaded.family!r}); use lstm_small, lstm_medium or "
                "lstm_large.")
        extra = {k: v for k, v in kwargs.items() if k not in fields}
        return cls(**dataclasses.asdict(loaded.model), **extra)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "tie_weights": self.tie_weights,
            "init_scale": self.init_scale,
            "stateful": self.stateful,
            "batch_size": self.batch_size,
        })
        return config
