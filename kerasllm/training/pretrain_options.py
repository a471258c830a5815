"""``PretrainOptions``: every option of ``kerasllm pretrain`` / ``kerasllm.training.pretrain``."""
import dataclasses
from typing import Optional

from kerasllm import tasks
from kerasllm.errors import KerasLLMError
from kerasllm.training.options import CommonOptions
from kerasllm.training.option_fields import option

DEFAULT_SEQ_LENGTH = 128  # when neither --seq-length nor the --examples record one


@dataclasses.dataclass(kw_only=True)
class PretrainOptions(CommonOptions):
    """Pretrain a BERT (MLM, NSP, MLM+NSP, SOP or MLM+SOP) into RUN_DIR."""
    JOB = "pretrain"

    preset: str = option("bert_mini", help="BERT preset name or YAML path.")
    task: str = option("mlm+nsp", choices=tasks.names(job="pretrain"))
    corpus: tuple = option(multiple=True, help="Corpus glob(s) (streamed, new masks every epoch).")
    examples: Optional[str] = option(path="any", help=(
        "Directory of TFRecords from `kerasllm data pretrain`."))
    vocab: Optional[str] = option(path="file", help=(
        "vocab.txt [default: the one recorded in --examples, or learned from --corpus]."))
    vocab_size: int = option(8000, at_least=10, help="Size of a vocabulary learned from --corpus.")
    epochs: Optional[int] = option(at_least=1, help="Passes over the data [default: 1].")
    warmup_steps: Optional[int] = option(at_least=0, recipe="warmup_steps",
                                         help="Linear warmup steps [default: preset recipe].")
    seq_length: Optional[int] = option(at_least=8, help=(
        f"Tokens per sequence [default: the length recorded in --examples, else "
        f"{DEFAULT_SEQ_LENGTH}]."))
    max_predictions: int = option(20, at_least=1, help="Masked positions per sequence.")
    masked_lm_prob: float = option(0.15, above=0, below=1)
    mlm_weight: Optional[float] = option(above=0, help=(
        "Weight of the masked-LM loss beside the NSP / SOP loss (--task mlm+nsp or mlm+sop) "
        "[default: 1, BERT's sum]. Below 1 gives the pair task a larger share of the shared "
        "encoder's update, which a pretrained encoder needs for NSP to learn in a short run, at "
        "some cost in MLM; above 1 (e.g. 4) keeps a long from-scratch run's MLM nearer MLM "
        "alone while NSP still learns, more slowly (README, 'Learning parity')."))
    mlm_alone_steps: Optional[int] = option(at_least=0, help=(
        "Train masked LM alone for the first N steps, then add the NSP / SOP loss (--task "
        "mlm+nsp or mlm+sop; it is logged from step 0) [default: 0]. From scratch the pair task "
        "slows masked LM's escape from its early plateau; joining after it keeps MLM nearer MLM "
        "alone (README, 'Learning parity')."))
    init: Optional[str] = option(help=(
        "Continue pretraining this BERT run (pretrain or import-hf): its vocabulary, sizes and "
        "encoder; heads kept where the task has them [default: none, a fresh --preset model]."))
    eval: tuple = option(multiple=True, help=(
        "Held-out corpus glob(s): masked-LM loss / accuracy / pseudo-perplexity and NSP / SOP "
        "accuracy every --eval-every steps and at each epoch end, to TensorBoard (validation) "
        "and the log."))
    eval_every: Optional[int] = option(at_least=1, help=(
        "Steps between held-out evaluations [default: --checkpoint-every]."))
    eval_examples: int = option(512, at_least=1, help=(
        "Held-out sequences per evaluation (masks fixed by --seed)."))

    def check_combinations(self):
        super().check_combinations()
        if bool(self.corpus) == bool(self.examples):
            raise KerasLLMError("Pass exactly one of --corpus GLOB or --examples DIR "
                                f"(received {'both' if self.corpus else 'neither'}).")
        for name, value in (("--mlm-weight", self.mlm_weight),
                            ("--mlm-alone-steps", self.mlm_alone_steps)):
            if value is not None and tasks.get(self.task).model != "BertPretrainer":
                raise KerasLLMError(f"{name} sets how masked LM and NSP / SOP train "
                                    f"together; --task {self.task} has no such pair (use "
                                    f"--task mlm+nsp or mlm+sop).")
