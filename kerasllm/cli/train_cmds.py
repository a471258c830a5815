"""``kerasllm pretrain | finetune | train-lm``: the training jobs as click commands.

Every flag comes from the job's options dataclass (``kerasllm.training.pretrain_options``
etc., built into click options by ``kerasllm.cli.job_flags``), so the CLI, ``--config``
files and ``kerasllm.training.pretrain(...)`` from Python share defaults and checks.
``--config FILE`` (YAML) sets any option by its name (``learning_rate`` or
``learning-rate``); flags given on the command line override it. The same command objects
back ``scripts/pretrain.py`` etc., so there is one implementation with two entry points.
"""
from kerasllm.cli import train_checks
from kerasllm.cli.job_flags import job_command
from kerasllm.training.finetune_options import FinetuneOptions
from kerasllm.training.lm_options import TrainLMOptions
from kerasllm.training.pretrain_options import PretrainOptions


@job_command("pretrain", PretrainOptions, train_checks.pretrain)
def pretrain():
    """Pretrain a BERT (MLM, NSP, MLM+NSP, SOP or MLM+SOP) into RUN_DIR."""


@job_command("finetune", FinetuneOptions, train_checks.finetune)
def finetune():
    """Fine-tune a BERT text classifier (--task classify), entity tagger (--task ner) or
    extractive question answerer (--task qa) into RUN_DIR.

    Batches hold texts of similar length, each cut to its longest row, so
    short texts never pay for --seq-length. Unset, --precision and --jit take
    the fastest setting for the machine (printed at start-up): mixed_bfloat16
    where the CPU (AMX / AVX512-BF16) or GPU (compute capability >= 8.0) has
    bfloat16 units, else float32; XLA on a single GPU, off on a CPU (MiniLM:
    no faster per step on CPU, 60-115 s of compiles; with bfloat16 0.51 against
    0.27 s/step, XLA's CPU code not using AMX); --jit alone on a CPU keeps
    float32. Without XLA the run is deterministic (bit-exact resume);
    --deterministic means XLA off.
    """


@job_command("train-lm", TrainLMOptions, train_checks.train_lm)
def train_lm():
    """Train an LSTM language model into RUN_DIR.

    On one device train-lm runs XLA by default (--jit): lstm_small trains at
    14.4 steps/s compiled vs 9.5 without (2 shared CPU cores). Keras turns XLA
    off under op determinism, so --deterministic (bit-exact resume) costs that
    ~1.5x; without XLA determinism itself costs nothing measurable (8.9-9.5
    steps/s). --deterministic alone therefore means --no-jit here, and so do
    --replicas N > 1 and multi-worker runs (XLA fails under that strategy).
    """
