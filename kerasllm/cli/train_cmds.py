"""``kerasllm pretrain | finetune | train-lm``: the training jobs as click commands.

``--config FILE`` (YAML) sets any option by its name (``learning_rate`` or
``learning-rate``); flags given on the command line override it. The same
command objects back ``scripts/pretrain.py`` etc., so there is one
implementation with two entry points.
"""
import functools
import sys

import click

from kerasllm import tasks
from kerasllm.cli import train_checks
from kerasllm.errors import KerasLLMError

FINETUNE_BATCH_SIZE, FINETUNE_LEARNING_RATE = 32, 5e-5  # BERT's fine-tuning defaults
PRECISIONS = click.Choice(["float32", "mixed_float16", "mixed_bfloat16"])


def _load_config(ctx, param, value):
    """Eager --config callback: the YAML becomes click's default_map, so flags win."""
    if not value:
        return value
    from kerasllm.config import read_yaml
    from kerasllm.errors import location

    try:
        data = read_yaml(value)
    except KerasLLMError as err:
        raise click.ClickException(str(err)) from None
    names = {p.name: p for p in ctx.command.params if p.name != "config"}
    defaults = {}
    for key, item in data.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise click.ClickException(
                f"{location(value, key=key)}: unknown option; expected one of: "
                f"{', '.join(sorted(names))}.")
        if names[name].multiple and isinstance(item, str):
            item = [item]
        _check_value(ctx, names[name], item, location(value, key=key))
        defaults[name] = item
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def _is_number(value, kind):
    """An int (or, for ``float``, any real number); YAML leaves '1e-3' a string, so parse those."""
    if isinstance(value, str):
        try:
            value = kind(value.strip())
        except ValueError:
            return False
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (kind is float and isinstance(value, float))


def _check_value(ctx, param, item, where):
    """Type-check one --config value as click would a flag, naming the file and key;
    a float for an integer option is refused, not truncated."""
    values = item if param.multiple and isinstance(item, (list, tuple)) else [item]
    for v in values:
        if isinstance(param.type, click.types.IntParamType) and not _is_number(v, int):
            raise click.ClickException(f"{where}: expected a whole number, received {v!r}.")
        if isinstance(param.type, click.types.FloatParamType) and not _is_number(v, float):
            raise click.ClickException(f"{where}: expected a number, received {v!r}.")
        if isinstance(v, (dict, list)):
            raise click.ClickException(f"{where}: expected a single value, received {v!r}.")
    try:
        param.type_cast_value(ctx, item)
    except click.BadParameter as err:
        raise click.ClickException(f"{where}: {err.message}") from None


AUTO = None  # a default the job picks for the machine (kerasllm.training.fast_defaults)


def _common(batch_size="preset recipe", learning_rate="preset recipe", jit=False, precision="float32"):
    """Options every training command shares; the help shows this command's defaults
    (``jit`` / ``precision``: their defaults, or AUTO)."""
    return functools.partial(_add_common, batch_size=batch_size, learning_rate=learning_rate, jit=jit,
                             precision=precision)


def _auto_help(text, default):
    return f"{text} [default: {'auto, see the note above' if default is AUTO else default}]"


def _add_common(func, batch_size, learning_rate, jit, precision):
    """Apply the shared options to ``func`` (bottom-up)."""
    options = [
        click.option("--output", required=True, type=click.Path(file_okay=False),
                     help="RUN_DIR to write (re-run the same command to resume it)."),
        click.option("--steps", type=click.IntRange(min=1), default=None,
                     help="Train this many steps (overrides --epochs)."),
        click.option("--batch-size", type=click.IntRange(min=1), default=None,
                     help="Per-replica batch; global batch = this x replicas "
                          f"[default: {batch_size}]."),
        click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True),
                     default=None, help=f"Peak learning rate [default: {learning_rate}]."),
        click.option("--precision", type=PRECISIONS, default=precision,
                     help=_auto_help("Dtype policy.", precision)),
        click.option("--jit/--no-jit", default=jit, help=_auto_help("XLA-compile the train step.", jit)),
        click.option("--replicas", type=click.IntRange(min=1), default=None,
                     help="Data-parallel replicas (GPUs, or logical CPU devices on a "
                          "CPU-only machine) [default: all GPUs]."),
        click.option("--checkpoint-every", type=click.IntRange(min=1), default=100,
                     show_default=True, help="Steps between crash-safe checkpoints."),
        click.option("--keep-checkpoints", type=click.IntRange(min=1), default=2, show_default=True,
                     help="Latest checkpoints kept on disk (the best by the eval metric is kept "
                          "besides)."),
        click.option("--profile-steps", default=None,
                     help="Profile steps 'START,STOP' into RUN_DIR/logs."),
        click.option("--seed", type=int, default=1337, show_default=True),
        click.option("--deterministic/--no-deterministic", default=None,
                     help="Deterministic TensorFlow ops (bit-exact resume) [default: on, "
                          "off with --jit, since Keras disables XLA under op determinism]."),
        click.option("--overwrite", is_flag=True, default=False,
                     help="Delete an existing RUN_DIR and start afresh."),
        click.option("--config", type=click.Path(dir_okay=False), is_eager=True,
                     expose_value=True, callback=_load_config,
                     help="YAML file setting any of these options; flags override it."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(command):
    """Drop --config (already merged) and turn KerasLLMError into one `Error:` line,
    also when the command runs outside the kerasllm group (scripts/)."""
    @functools.wraps(command)
    def wrapper(**options):
        options.pop("config", None)
        try:
            command(**options)
        except KerasLLMError as err:
            if getattr(err, "exit_code", None):  # TrainingInterrupted: checkpointed, restartable
                click.echo(str(err), err=True)
                sys.exit(err.exit_code)
            raise click.ClickException(str(err)) from None
    return wrapper


@click.command("pretrain")
@click.option("--preset", default="bert_mini", show_default=True,
              help="BERT preset name or YAML path.")
@click.option("--task", type=click.Choice(tasks.names(job="pretrain")), default="mlm+nsp",
              show_default=True)
@click.option("--corpus", multiple=True, help="Corpus glob(s) (streamed, new masks every epoch).")
@click.option("--examples", type=click.Path(), default=None,
              help="Directory of TFRecords from `kerasllm data pretrain`.")
@click.option("--vocab", type=click.Path(dir_okay=False), default=None,
              help="vocab.txt [default: the one recorded in --examples, or learned from "
                   "--corpus].")
@click.option("--vocab-size", type=click.IntRange(min=10), default=8000, show_default=True,
              help="Size of a vocabulary learned from --corpus.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Passes over the data [default: 1].")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=None,
              help="Linear warmup steps [default: preset recipe].")
@click.option("--seq-length", type=click.IntRange(min=8), default=None,
              help="Tokens per sequence [default: the length recorded in --examples, else 128].")
@click.option("--max-predictions", type=click.IntRange(min=1), default=20, show_default=True,
              help="Masked positions per sequence.")
@click.option("--masked-lm-prob", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.15, show_default=True)
@click.option("--init", default=None,
              help="Continue pretraining this BERT run (pretrain or import-hf): its vocabulary, "
                   "sizes and encoder; heads kept where the task has them [default: none, a "
                   "fresh --preset model].")
@click.option("--eval", "eval", multiple=True,
              help="Held-out corpus glob(s): masked-LM loss / accuracy / pseudo-perplexity and "
                   "NSP / SOP accuracy every --eval-every steps and at each epoch end, to "
                   "TensorBoard (validation) and the log.")
@click.option("--eval-every", type=click.IntRange(min=1), default=None,
              help="Steps between held-out evaluations [default: --checkpoint-every].")
@click.option("--eval-examples", type=click.IntRange(min=1), default=512, show_default=True,
              help="Held-out sequences per evaluation (masks fixed by --seed).")
@_common()
@_run
def pretrain(**options):
    """Pretrain a BERT (MLM, NSP, MLM+NSP, SOP or MLM+SOP) into RUN_DIR."""
    train_checks.pretrain(options)
    from kerasllm.training.pretrain_job import pretrain as job

    job(**options)


@click.command("finetune")
@click.option("--task", type=click.Choice(tasks.names(job="finetune")), default="classify",
              show_default=True, help="classify: one label per text; ner: one tag per word; "
                                      "qa: answer spans (SQuAD v1.1 / v2.0 JSON).")
@click.option("--init", required=True,
              help="RUN_DIR to start from (pretrain / import-hf run), or 'none'.")
@click.option("--train", required=True, type=click.Path(dir_okay=False),
              help="Labelled CSV / TSV / JSONL (classify); CoNLL or JSONL tokens/tags (ner); "
                   "SQuAD JSON (qa).")
@click.option("--eval", "eval", type=click.Path(dir_okay=False), default=None,
              help="Held-out labelled file, evaluated after every epoch.")
@click.option("--preset", default="bert_mini", show_default=True,
              help="Architecture when --init none.")
@click.option("--vocab", type=click.Path(dir_okay=False), default=None,
              help="vocab.txt when --init none [default: learned from --train].")
@click.option("--vocab-size", type=click.IntRange(min=10), default=8000, show_default=True)
@click.option("--text-column", default="text", show_default=True)
@click.option("--pair-column", default=None, help="Second text column (sentence pairs).")
@click.option("--label-column", default="label", show_default=True)
@click.option("--tag-column", type=click.IntRange(min=1), default=None,
              help="ner, CoNLL files: the tag's column, counted from 0 = the word "
                   "[default: the last column].")
@click.option("--doc-stride", type=click.IntRange(min=1), default=128, show_default=True,
              help="qa: context pieces between the starts of overlapping windows.")
@click.option("--max-query-length", type=click.IntRange(min=1), default=64, show_default=True,
              help="qa: question pieces kept.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--early-stopping", type=click.IntRange(min=0), default=0, show_default=True,
              help="Stop after this many epochs without a lower --eval loss (0 = off). With "
                   "--eval, model.keras always holds the best epoch's weights.")
@click.option("--warmup-steps", type=click.IntRange(min=0), default=None,
              help="[default: 10% of the training steps].")
@click.option("--seq-length", type=click.IntRange(min=8), default=128, show_default=True)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.01, show_default=True)
@click.option("--clipnorm", type=click.FloatRange(min=0, min_open=True), default=1.0,
              show_default=True)
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.1,
              show_default=True, help="Classification / tagging head dropout.")
@_common(batch_size=str(FINETUNE_BATCH_SIZE), learning_rate=str(FINETUNE_LEARNING_RATE), jit=AUTO,
         precision=AUTO)
@_run
def finetune(**options):
    """Fine-tune a BERT text classifier (--task classify), entity tagger (--task ner) or
    extractive question answerer (--task qa) into RUN_DIR.

    Batches hold texts of similar length, each cut to its longest row, so
    short texts never pay for --seq-length. Unset, --precision and --jit take
    the fastest setting for the machine (printed at start-up): mixed_bfloat16
    where the CPU (AMX / AVX512-BF16) or GPU (compute capability >= 8.0) has
    bfloat16 units, else float32; XLA on a single device unless bfloat16 runs
    on a CPU (XLA's CPU code does not use AMX: 0.51 against 0.27 s/step for
    MiniLM); --jit alone on a CPU keeps float32. Without XLA the run is
    deterministic (bit-exact resume); --deterministic means XLA off.
    """
    train_checks.finetune(options)
    task = tasks.get(options.pop("task"), "--task")
    used = {"classify": ("text_column", "pair_column", "label_column"), "ner": ("tag_column",),
            "qa": ("doc_stride", "max_query_length")}
    for name in {n for names in used.values() for n in names} - set(used[task.name]):
        options.pop(name)  # not recorded in config.yaml: they do not shape this run
    options["batch_size"] = options["batch_size"] or FINETUNE_BATCH_SIZE
    options["learning_rate"] = options["learning_rate"] or FINETUNE_LEARNING_RATE
    task.resolve("trainer")(**options)


@click.command("train-lm")
@click.option("--preset", default="lstm_small", show_default=True,
              help="LSTM preset (carries the Zaremba et al. recipe).")
@click.option("--corpus", multiple=True, required=True, help="Training text glob(s).")
@click.option("--eval", "eval", multiple=True, help="Held-out text; perplexity every epoch.")
@click.option("--tokenizer", type=click.Choice(["word", "wordpiece"]), default="word",
              show_default=True)
@click.option("--vocab-size", type=click.IntRange(min=10), default=10000, show_default=True)
@click.option("--vocab", type=click.Path(dir_okay=False), default=None,
              help="Existing vocabulary [default: learned from --corpus].")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="[default: preset recipe].")
@click.option("--seq-length", type=click.IntRange(min=1), default=None,
              help="Truncated-BPTT window [default: preset recipe].")
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]), default=None,
              help="[default: preset recipe].")
@click.option("--lr-decay", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Per-epoch decay factor [default: preset recipe].")
@click.option("--decay-start-epoch", type=click.IntRange(min=0), default=None,
              help="Epochs at the full rate [default: preset recipe].")
@click.option("--clipnorm", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Global-norm clip [default: preset recipe].")
@click.option("--early-stopping", type=click.IntRange(min=0), default=0, show_default=True,
              help="Stop after this many epochs without a lower --eval loss (0 = off). With "
                   "--eval, model.keras always holds the best epoch's weights.")
@click.option("--stateful/--no-stateful", default=True, show_default=True,
              help="Carry LSTM state across windows (truncated BPTT).")
@click.option("--loss", type=click.Choice(["sum_over_time", "token_mean"]), default=None,
              help="Objective: cross-entropy summed over the window / batch (the paper's, "
                   "what lr 1 and the clip are stated for) or Keras' per-token mean "
                   "[default: preset recipe]. The logged loss is per token either way.")
@_common(jit=True)
@_run
def train_lm(**options):
    """Train an LSTM language model into RUN_DIR.

    On one device train-lm runs XLA by default (--jit): lstm_small trains at
    14.4 steps/s compiled vs 9.5 without (2 shared CPU cores). Keras turns XLA
    off under op determinism, so --deterministic (bit-exact resume) costs that
    ~1.5x; without XLA determinism itself costs nothing measurable (8.9-9.5
    steps/s). --deterministic alone therefore means --no-jit here, and so do
    --replicas N > 1 and multi-worker runs (XLA fails under that strategy).
    """
    source = click.get_current_context().get_parameter_source("jit")
    if source == click.core.ParameterSource.DEFAULT:
        options["jit"] = None  # train_lm picks: XLA unless --deterministic
    train_checks.train_lm(options)
    from kerasllm.training.lm_job import train_lm as job

    job(**options)
