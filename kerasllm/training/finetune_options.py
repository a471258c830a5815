"""``FinetuneOptions``: every option of ``kerasllm finetune`` / ``kerasllm.training.finetune``."""
import dataclasses
from typing import Optional

from kerasllm import tasks
from kerasllm.training.options import AUTO_DEFAULT, EARLY_STOPPING_HELP, CommonOptions, batch_size_help, learning_rate_help
from kerasllm.training.option_fields import option

BATCH_SIZE, LEARNING_RATE = 32, 5e-5  # BERT's fine-tuning defaults
# The options only one task reads; the others' are left out of its config.yaml.
TASK_OPTIONS = {"classify": ("text_column", "pair_column", "label_column", "classifier_pooling"),
                "ner": ("tag_column",), "qa": ("doc_stride", "max_query_length")}


@dataclasses.dataclass(kw_only=True)
class FinetuneOptions(CommonOptions):
    """Fine-tune a BERT classifier (classify), tagger (ner) or question answerer (qa)."""
    JOB = "finetune"

    task: str = option("classify", choices=tasks.names(job="finetune"), help=(
        "classify: one label per text; ner: one tag per word; qa: answer spans (SQuAD v1.1 / "
        "v2.0 JSON)."))
    init: Optional[str] = option(required=True, help=(
        "RUN_DIR to start from (pretrain / import-hf run), or 'none'."))
    train: Optional[str] = option(required=True, path="file", help=(
        "Labelled CSV / TSV / JSONL (classify); CoNLL or JSONL tokens/tags (ner); SQuAD JSON (qa)."))
    eval: Optional[str] = option(path="file", help=(
        "Held-out labelled file, evaluated after every epoch."))
    preset: str = option("bert_mini", help="Architecture when --init none.")
    vocab: Optional[str] = option(path="file", help=(
        "vocab.txt when --init none [default: learned from --train]."))
    vocab_size: int = option(8000, at_least=10)
    text_column: str = option("text")
    pair_column: Optional[str] = option(help="Second text column (sentence pairs).")
    label_column: str = option("label")
    tag_column: Optional[int] = option(at_least=1, help=(
        "ner, CoNLL files: the tag's column, counted from 0 = the word [default: the last column]."))
    doc_stride: int = option(128, at_least=1, help=(
        "qa: context pieces between the starts of overlapping windows."))
    max_query_length: int = option(64, at_least=1, help="qa: question pieces kept.")
    epochs: int = option(3, at_least=1)
    early_stopping: int = option(0, at_least=0, help=EARLY_STOPPING_HELP)
    warmup_steps: Optional[int] = option(at_least=0, help="[default: 10% of the training steps].")
    seq_length: int = option(128, at_least=8)
    weight_decay: float = option(0.01, at_least=0)
    clipnorm: float = option(1.0, above=0)
    dropout: float = option(0.1, at_least=0, below=1, help="Classification / tagging head dropout.")
    classifier_pooling: str = option("cls", choices=("cls", "mean"), help=(
        "classify: the text vector the head reads. cls: BERT's pooler over [CLS] (what NSP / SOP "
        "pretraining trains; export-hf as BertForSequenceClassification); mean: the mean of the "
        "tokens' vectors (better after MLM-only pretraining, which never trains [CLS])."))
    batch_size: int = option(BATCH_SIZE, at_least=1, help=batch_size_help(BATCH_SIZE))
    learning_rate: float = option(LEARNING_RATE, above=0, help=learning_rate_help(LEARNING_RATE))
    precision: Optional[str] = option(choices=CommonOptions.fields()["precision"].metadata["choices"],
                                      help=f"Dtype policy. {AUTO_DEFAULT}")
    jit: Optional[bool] = option(help=f"XLA-compile the train step. {AUTO_DEFAULT}")

    def job_options(self):
        """Without --task (the trainer is the task's) and the other tasks' options."""
        options = super().job_options()
        options.pop("task")
        for task, names in TASK_OPTIONS.items():
            if task != self.task:
                for name in names:
                    options.pop(name)
        return options
