"""Optimizers and learning-rate schedules for the BERT and LSTM recipes.

- BERT: AdamW (no weight decay on LayerNorm parameters or biases), linear
  warmup then linear / polynomial decay, global-norm clipping.
- LSTM: SGD (Zaremba et al. 2014: lr 1, halved every epoch after the first
  few, clip 5) or Adam, both with global-norm clipping.

Schedules are functions of the optimizer's step counter only, so a run
resumed from a checkpoint (which restores that counter) continues on the
same learning-rate curve.
"""
import keras
from keras import ops

# LayerNormalization weights are named gamma/beta, Dense/Embedding biases bias.
NO_DECAY = ["gamma", "beta", "bias", "layer_norm", "layernorm"]


@keras.saving.register_keras_serializable(package="kerasllm")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``peak`` over ``warmup_steps``, then polynomial decay.

    Args:
        peak: learning rate reached at the end of warmup.
        warmup_steps: steps of linear warmup from 0 (0 = none).
        total_steps: step at which the rate reaches ``end``.
        end: final learning rate.
        power: 1.0 = linear decay.

    Example:
    >>> lr = WarmupPolynomialDecay(1e-3, warmup_steps=10, total_steps=100)
    >>> float(lr(5))  # halfway through warmup
    0.0005  (approximately; float32)
    """

    def __init__(self, peak, warmup_steps, total_steps, end=0.0, power=1.0):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(max(total_steps, warmup_steps + 1))
        self.end = float(end)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * step / max(self.warmup_steps, 1)
        span = float(self.total_steps - self.warmup_steps)
        frac = ops.clip((step - self.warmup_steps) / span, 0.0, 1.0)
        decayed = (self.peak - self.end) * (1.0 - frac) ** self.power + self.end
        return ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps, "end": self.end, "power": self.power}


@keras.saving.register_keras_serializable(package="kerasllm")
class EpochDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Zaremba et al. (2014): ``lr`` for ``decay_start_epoch`` epochs, then x ``decay`` per epoch.

    Args:
        lr: initial learning rate.
        decay: factor applied once per epoch after the first ``decay_start_epoch``.
        decay_start_epoch: epochs trained at the full rate.
        steps_per_epoch: optimizer steps in one epoch.

    Example:
    >>> lr = EpochDecay(1.0, decay=0.5, decay_start_epoch=4, steps_per_epoch=10)
    >>> float(lr(45))  # epoch 4 -> first decayed epoch
    0.5
    """

    def __init__(self, lr, decay, decay_start_epoch, steps_per_epoch):
        self.lr = float(lr)
        self.decay = float(decay)
        self.decay_start_epoch = int(decay_start_epoch)
        self.steps_per_epoch = int(steps_per_epoch)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        exponent = ops.maximum(epoch - self.decay_start_epoch + 1.0, 0.0)
        return self.lr * ops.power(self.decay, exponent)

    def get_config(self):
        return {"lr": self.lr, "decay": self.decay,
                "decay_start_epoch": self.decay_start_epoch,
                "steps_per_epoch": self.steps_per_epoch}


def adamw(learning_rate, warmup_steps, total_steps, weight_decay=0.01, clipnorm=1.0):
    """BERT's optimizer: AdamW + warmup/linear decay, LayerNorm and biases not decayed."""
    schedule = WarmupPolynomialDecay(learning_rate, warmup_steps, total_steps)
    opt = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay,
                                 beta_1=0.9, beta_2=0.999, epsilon=1e-6,
                                 global_clipnorm=clipnorm)
    opt.exclude_from_weight_decay(var_names=NO_DECAY)
    return opt


def lstm_optimizer(name, learning_rate, clipnorm, lr_decay=1.0, decay_start_epoch=0,
                   steps_per_epoch=1):
    """SGD (Zaremba epoch decay) or Adam with global-norm clipping."""
    schedule = EpochDecay(learning_rate, lr_decay, decay_start_epoch, steps_per_epoch)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=schedule, global_clipnorm=clipnorm)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=schedule, global_clipnorm=clipnorm)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', received {name!r}.")


def current_learning_rate(optimizer):
    """The learning rate the optimizer uses at its current step (a float)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    lr = inner.learning_rate
    return float(keras.ops.convert_to_numpy(lr))
