"""Job options as typed dataclasses: each job's defaults and checks in one place.

``CommonOptions`` holds what every job accepts; ``PretrainOptions``, ``FinetuneOptions``
and ``TrainLMOptions`` (one file each) add their own. The click commands are built from
these fields (``kerasllm.cli.job_flags``), a ``--config`` YAML is read into them
(``read_config``), and ``kerasllm.training.pretrain(...)`` etc. take them, or keyword
arguments, from Python. A field left None is decided by the job (a preset recipe, the
machine, the examples); ``option(recipe=...)`` names the recipe attribute that fills it.
"""
import dataclasses
from typing import Optional

from kerasllm.errors import KerasLLMError, location
from kerasllm.training.option_fields import OptionValueError, coerce, flag, option

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
AUTO_DEFAULT = "[default: auto, see the note above]"
EARLY_STOPPING_HELP = ("Stop after this many epochs without a lower --eval loss (0 = off). With "
                       "--eval, model.keras always holds the best epoch's weights.")


def batch_size_help(default):
    return f"Per-replica batch; global batch = this x replicas [default: {default}]."


def learning_rate_help(default):
    return f"Peak learning rate [default: {default}]."


@dataclasses.dataclass(kw_only=True)
class JobOptions:
    """Build, check and hand over one job's options (subclasses declare the fields)."""
    JOB = None  # the command name: pretrain, finetune, train-lm

    @classmethod
    def fields(cls):
        return {field.name: field for field in dataclasses.fields(cls)}

    @classmethod
    def build(cls, options=None, config=None, **values):
        """Checked options from a ``--config`` YAML, then ``options`` (an instance or a
        mapping), then keyword arguments: later ones win. Mistakes raise KerasLLMError."""
        merged = cls.read_config(config) if config else {}
        if isinstance(options, JobOptions):
            if not isinstance(options, cls):
                raise KerasLLMError(f"{cls.JOB}: expected {cls.__name__}, received "
                                    f"{type(options).__name__}; pass this job's options.")
            options = dataclasses.asdict(options)
        merged.update(options or {})
        merged.update(values)
        unknown = sorted(set(merged) - set(cls.fields()))
        if unknown:
            raise KerasLLMError(f"{cls.JOB}: unknown option {unknown[0]!r}; expected one of: "
                                f"{', '.join(sorted(cls.fields()))}.")
        return cls(**merged).validate()

    @classmethod
    def read_config(cls, path):
        """``{option: value}`` of a ``--config`` YAML (keys as ``learning_rate`` or
        ``learning-rate``); an unknown key or a bad value is one line naming file and key."""
        from kerasllm.config import read_yaml

        fields, values = cls.fields(), {}
        for key, value in read_yaml(path).items():
            name = str(key).replace("-", "_")
            if name not in fields:
                raise KerasLLMError(f"{location(path, key=key)}: unknown option; expected one "
                                    f"of: {', '.join(sorted(fields))}.")
            try:
                values[name] = coerce(cls, fields[name], value)
            except OptionValueError as err:
                raise KerasLLMError(f"{location(path, key=key)}: {err}.") from None
        return values

    def validate(self):
        """Check and normalise every field (paths to str, lists to tuples), then the
        combinations; returns self. Messages read as the CLI's: ``Invalid value for
        '--steps': 0 is not in the range x>=1.``"""
        for name, field in self.fields().items():
            value = getattr(self, name)
            if field.metadata["required"] and value in (None, (), [], ""):
                raise KerasLLMError(f"Missing option '{flag(field)}'.")
            try:
                setattr(self, name, coerce(type(self), field, value))
            except OptionValueError as err:
                raise KerasLLMError(f"Invalid value for '{flag(field)}': {err}.") from None
        self.check_combinations()
        return self

    def check_combinations(self):
        """Refuse options that cannot go together (subclasses add theirs)."""

    def task_name(self):
        return self.task

    def job_options(self):
        """The ``{option: value}`` mapping the job function takes (and config.yaml records)."""
        return dataclasses.asdict(self)

    def run(self):
        """Train; returns the metrics dict (also in RUN_DIR/metrics.json)."""
        from kerasllm import tasks

        self.validate()
        return tasks.get(self.task_name(), "--task").resolve("trainer")(**self.job_options())


def fill_from_recipe(cls, options, recipe):
    """Set each unset option of ``cls`` declared ``option(recipe=...)`` from the preset's recipe."""
    for name, field in cls.fields().items():
        source = field.metadata["recipe"]
        if source and options.get(name) is None:
            options[name] = getattr(recipe, source)


@dataclasses.dataclass(kw_only=True)
class CommonOptions(JobOptions):
    """Options every training job accepts."""
    output: Optional[str] = option(required=True, path="dir",
                                   help="RUN_DIR to write (re-run the same command to resume it).")
    steps: Optional[int] = option(at_least=1, help="Train this many steps (overrides --epochs).")
    batch_size: Optional[int] = option(at_least=1, recipe="batch_size",
                                       help=batch_size_help("preset recipe"))
    learning_rate: Optional[float] = option(above=0, recipe="learning_rate",
                                            help=learning_rate_help("preset recipe"))
    precision: Optional[str] = option("float32", choices=PRECISIONS,
                                      help="Dtype policy. [default: float32]")
    jit: Optional[bool] = option(False, help="XLA-compile the train step. [default: False]")
    replicas: Optional[int] = option(at_least=1, help=(
        "Data-parallel replicas (GPUs, or logical CPU devices on a CPU-only machine) "
        "[default: all GPUs]."))
    checkpoint_every: int = option(100, at_least=1, help="Steps between crash-safe checkpoints.")
    keep_checkpoints: int = option(2, at_least=1, help=(
        "Latest checkpoints kept on disk (the best by the eval metric is kept besides)."))
    profile_steps: Optional[str] = option(help="Profile steps 'START,STOP' into RUN_DIR/logs.")
    seed: int = option(1337)
    deterministic: Optional[bool] = option(help=(
        "Deterministic TensorFlow ops (bit-exact resume) [default: on, off with --jit, since "
        "Keras disables XLA under op determinism]."))
    overwrite: bool = option(False, is_flag=True,
                             help="Delete an existing RUN_DIR and start afresh.")

    def check_combinations(self):
        if self.jit and self.deterministic:
            raise KerasLLMError(
                "--jit and --deterministic cannot be combined: Keras turns XLA off while "
                "TensorFlow op determinism is on. Drop --deterministic (resume stays step-exact; "
                "losses may differ in the last digits) or drop --jit.")
