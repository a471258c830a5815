"""Initializer helpers shared by the layers."""
import keras


def clone_initializer(initializer):
    """A fresh copy, so sublayers built from one seeded initializer differ."""
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def bert_kernel_initializer(stddev=0.02):
    """BERT's weight init: truncated normal with std 0.02 (Devlin et al. 2019)."""
    return keras.initializers.TruncatedNormal(stddev=stddev)
