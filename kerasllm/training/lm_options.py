"""``TrainLMOptions``: every option of ``kerasllm train-lm`` / ``kerasllm.training.train_lm``."""
import dataclasses
from typing import Optional

from kerasllm.training.options import AUTO_DEFAULT, EARLY_STOPPING_HELP, CommonOptions
from kerasllm.training.option_fields import option

RECIPE = "[default: preset recipe]."


@dataclasses.dataclass(kw_only=True)
class TrainLMOptions(CommonOptions):
    """Train an LSTM language model into RUN_DIR."""
    JOB = "train-lm"

    preset: str = option("lstm_small", help="LSTM preset (carries the Zaremba et al. recipe).")
    corpus: tuple = option(multiple=True, required=True, help="Training text glob(s).")
    eval: tuple = option(multiple=True, help="Held-out text; perplexity every epoch.")
    tokenizer: str = option("word", choices=("word", "wordpiece"))
    vocab_size: int = option(10000, at_least=10)
    vocab: Optional[str] = option(path="file", help=(
        "Existing vocabulary [default: learned from --corpus]."))
    epochs: Optional[int] = option(at_least=1, recipe="epochs", help=RECIPE)
    seq_length: Optional[int] = option(at_least=1, recipe="seq_length",
                                       help=f"Truncated-BPTT window {RECIPE}")
    optimizer: Optional[str] = option(choices=("sgd", "adam"), recipe="optimizer", help=RECIPE)
    lr_decay: Optional[float] = option(above=0, recipe="lr_decay",
                                       help=f"Per-epoch decay factor {RECIPE}")
    decay_start_epoch: Optional[int] = option(at_least=0, recipe="decay_start_epoch",
                                              help=f"Epochs at the full rate {RECIPE}")
    clipnorm: Optional[float] = option(above=0, recipe="clipnorm", help=f"Global-norm clip {RECIPE}")
    early_stopping: int = option(0, at_least=0, help=EARLY_STOPPING_HELP)
    stateful: bool = option(True, help="Carry LSTM state across windows (truncated BPTT).")
    loss: Optional[str] = option(choices=("sum_over_time", "token_mean"), recipe="loss", help=(
        "Objective: cross-entropy summed over the window / batch (the paper's, what lr 1 and "
        "the clip are stated for) or Keras' per-token mean [default: preset recipe]. The "
        "logged loss is per token either way."))
    jit: Optional[bool] = option(help=f"XLA-compile the train step. {AUTO_DEFAULT}")

    def task_name(self):
        return "lm"
