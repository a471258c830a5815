"""Activation names used by BERT configs, mapped to functions.

"gelu" is the exact erf GELU of the original BERT / Hugging Face ``gelu``;
"gelu_approximate" is the tanh approximation (Hugging Face ``gelu_new``).
Layers store the name in their config and look the function up here.
"""
import keras

ACTIVATIONS = {
    "gelu": lambda x: keras.activations.gelu(x, approximate=False),
    "gelu_approximate": lambda x: keras.activations.gelu(x, approximate=True),
    "relu": keras.activations.relu,
    "tanh": keras.activations.tanh,
}


def get_activation(name):
    """The activation function called ``name``; ValueError naming the choices otherwise."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {', '.join(sorted(ACTIVATIONS))}.")
    return ACTIVATIONS[name]
