"""A stack of LSTMs with Zaremba et al. (2014) dropout, for word-level language models."""
import keras
from keras import ops

from kerasllm.layers.dropout import Dropout


def uniform_or_default(init_scale, default):
    """A fresh ``uniform(-init_scale, init_scale)`` initializer, or ``default``."""
    if init_scale is None:
        return default
    return keras.initializers.RandomUniform(-init_scale, init_scale)


@keras.saving.register_keras_serializable(package="kerasllm")
class LSTMLMBlock(keras.layers.Layer):
    """Stacked LSTMs with dropout on the non-recurrent connections.

    Dropout follows Zaremba et al. (2014): it is applied to the input of every
    LSTM layer and to the output of the last one, never to the recurrent
    connections. The LSTMs keep ``recurrent_dropout=0`` and the default
    activations, so Keras can use the fused cuDNN kernel on a GPU.

    The block can take and return the ``[h, c]`` state of every layer, which is
    what truncated backpropagation through time needs. With ``stateful=True``
    the block also keeps those states in non-trainable variables and carries
    them from one call to the next whenever no ``initial_state`` is passed.
    We keep the state variables here instead of using ``LSTM(stateful=True)``
    so that a call with an explicit ``initial_state`` (generation, evaluation
    with another batch size) never overwrites the training state.

    Args:
        units: int. Hidden size of every LSTM layer.
        num_layers: int. Number of stacked LSTM layers.
        dropout: float. Dropout rate on the non-recurrent connections.
            Defaults to `0.0`.
        init_scale: float or None. If set, every LSTM weight is initialised
            from `uniform(-init_scale, init_scale)` (Zaremba et al.);
            otherwise the Keras LSTM defaults are used.
        stateful: bool. Carry the final states of one call over as the initial
            states of the next. Needs a static batch size. Defaults to `False`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype` and `trainable`.

    Call arguments:
        inputs: float tensor of shape `(batch_size, sequence_length, features)`.
        initial_state: optional list with one `[h, c]` pair per layer, each of
            shape `(batch_size, units)`. Defaults to zeros (or the carried
            states when `stateful=True`).
        return_state: bool. If `True`, also return the final `[h, c]` pair of
            every layer. Defaults to `False`.
        training: bool. Whether dropout is active.

    Returns:
        `outputs` of shape `(batch_size, sequence_length, units)`, or
        `(outputs, states)` when `return_state=True`.

    Example:
    ```python
    block = kerasllm.layers.LSTMLMBlock(units=32, num_layers=2, dropout=0.5)
    x = np.random.uniform(size=(4, 10, 16)).astype("float32")
    outputs, states = block(x, return_state=True)       # (4, 10, 32)
    more, states = block(x, initial_state=states, return_state=True)
    ```
    """

    def __init__(self, units, num_layers, dropout=0.0, init_scale=None,
                 stateful=False, **kwargs):
        super().__init__(**kwargs)
        if units <= 0 or num_layers <= 0:
            raise ValueError(
                "LSTMLMBlock needs positive `units` and `num_layers`, received "
                f"units={units}, num_layers={num_layers}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LSTMLMBlock `dropout` must be in [0, 1), received {dropout}.")
        self.units = int(units)
        self.num_layers = int(num_layers)
        self.dropout = float(dropout)
        self.init_scale = None if init_scale is None else float(init_scale)
        self.stateful = bool(stateful)
        self.supports_masking = False

    def build(self, inputs_shape):
        batch_size, _, features = inputs_shape
        self.input_dropout = Dropout(self.dropout, dtype=self.dtype_policy, name="input_dropout")
        self.lstm_layers = []
        self.layer_dropouts = []
        for i in range(self.num_layers):
            lstm = keras.layers.LSTM(
                self.units,
                return_sequences=True,
                return_state=True,
                kernel_initializer=uniform_or_default(self.init_scale, "glorot_uniform"),
                recurrent_initializer=uniform_or_default(self.init_scale, "orthogonal"),
                bias_initializer=uniform_or_default(self.init_scale, "zeros"),
                unit_forget_bias=self.init_scale is None,
                dtype=self.dtype_policy,
                name=f"lstm_{i}",
            )
            lstm.build((batch_size, None, features if i == 0 else self.units))
            self.lstm_layers.append(lstm)
            # Dropout on this layer's output: the next layer's input, or the
            # block output after the last layer.
            self.layer_dropouts.append(Dropout(
                self.dropout, dtype=self.dtype_policy, name=f"dropout_{i}"))
        self.state_variables = None
        if self.stateful:
            if batch_size is None:
                raise ValueError(
                    "LSTMLMBlock(stateful=True) needs a static batch size, received input "
                    f"shape {tuple(inputs_shape)}; build or call it with a fixed batch "
                    "(e.g. `batch_size=` on the model, `drop_remainder=True` on the dataset).")
            self.state_variables = [
                [self.add_weight(shape=(batch_size, self.units), initializer="zeros",
                                 trainable=False, name=f"{kind}_{i}") for kind in ("h", "c")]
                for i in range(self.num_layers)
            ]

    def get_initial_state(self, batch_size):
        """Zero `[h, c]` states for every layer, in the compute dtype."""
        return [[ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
                 for _ in range(2)] for _ in range(self.num_layers)]

    def reset_states(self):
        """Zero the carried states (`stateful=True` only; no-op otherwise)."""
        for pair in self.state_variables or []:
            for variable in pair:
                variable.assign(ops.zeros_like(variable))

    def _check_stateful_batch(self, inputs):
        expected = self.state_variables[0][0].shape[0]
        received = inputs.shape[0]
        if received is not None and received != expected:
            raise ValueError(
                f"LSTMLMBlock(stateful=True) was built for batch size {expected}, received "
                f"a batch of {received}; feed batches of exactly {expected} "
                "(`drop_remainder=True`) or pass an explicit `initial_state`.")

    def call(self, inputs, initial_state=None, return_state=False, training=None):
        carried = self.stateful and initial_state is None
        if carried:
            self._check_stateful_batch(inputs)
            initial_state = [[ops.cast(v, self.compute_dtype) for v in pair]
                             for pair in self.state_variables]
        if initial_state is not None and len(initial_state) != self.num_layers:
            raise ValueError(
                f"LSTMLMBlock has {self.num_layers} layers and needs one [h, c] pair per "
                f"layer as `initial_state`, received {len(initial_state)} entries.")
        x = self.input_dropout(inputs, training=training)  # (B, T, E)
        states = []
        for i, (lstm, dropout) in enumerate(zip(self.lstm_layers, self.layer_dropouts)):
            layer_state = None if initial_state is None else list(initial_state[i])
            x, h, c = lstm(x, initial_state=layer_state, training=training)  # (B, T, U)
            x = dropout(x, training=training)
            states.append([h, c])
        if carried:
            for pair, new_pair in zip(self.state_variables, states):
                for variable, value in zip(pair, new_pair):
                    variable.assign(ops.cast(value, variable.dtype))
        if return_state:
            return x, states
        return x

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape[:-1]) + (self.units,)  # (B, T, U)

    def compute_output_spec(self, inputs, initial_state=None, return_state=False, training=None):
        outputs = keras.KerasTensor(self.compute_output_shape(inputs.shape), self.compute_dtype)
        if not return_state:
            return outputs
        state_shape = (inputs.shape[0], self.units)  # (B, U)
        return outputs, [[keras.KerasTensor(state_shape, self.compute_dtype) for _ in "hc"]
                         for _ in range(self.num_layers)]

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "init_scale": self.init_scale,
            "stateful": self.stateful,
        })
        return config
