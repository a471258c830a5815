"""The task registry: one record per task, read by every job, command and exporter.

A run's ``config.yaml`` names its task; everything task-specific is looked up
here instead of in per-module task lists:

- ``model``: the ``kerasllm.models`` class built around the encoder; its loss
  and metrics are that class's ``compile()`` defaults (``_default_compile``);
- ``job``: the command that makes runs of the task (``pretrain``,
  ``finetune``, ``train-lm``; None: only ``import-hf`` makes them), ``trainer``
  the job function it runs and ``reader`` the function that reads its
  labelled files (fine-tuning tasks);
- ``evaluator`` / ``predictor`` / ``formatter``: ``(run, ...) -> metrics``,
  ``(run, texts) -> results`` and what ``kerasllm predict`` prints of them. These and ``trainer`` / ``reader`` are ``"module:function"``
  paths, resolved on use, so this module imports neither TensorFlow nor the
  modules that import it;
- ``hf_architecture`` and ``hf_heads``: the transformers class and the
  state-dict prefixes of its head tensors (``kerasllm.checkpoints.weight_map``
  maps each prefix to the model's head); ``hf_pooler``: whether that class has
  the pooler (BertForMaskedLM and BertForTokenClassification do not);
  ``hf_export_as``: the task whose
  checkpoint a run without a transformers class of its own is exported as;
- ``serving``: the ``BertServing`` method that turns packed ids into the
  raw-text signature's outputs;
- ``pair_labels``: fixed class names of a sentence-pair head; ``masked_lm``:
  the model takes ``mask_positions``; ``labelled``: the run keeps labels.txt.

Adding a task means its own model / data / metric files plus one entry here.
"""
import dataclasses
import importlib

from kerasllm.errors import KerasLLMError


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    model: str = None
    job: str = None
    family: str = "bert"
    trainer: str = None
    reader: str = None
    evaluator: str = None
    predictor: str = None
    formatter: str = None
    hf_architecture: str = None
    hf_heads: tuple = ()
    hf_export_as: str = None
    hf_pooler: bool = True
    serving: str = None
    pair_labels: tuple = ()
    masked_lm: bool = False
    labelled: bool = False

    def resolve(self, field):
        """The function a ``"module:function"`` field names (None if the task has none)."""
        path = getattr(self, field)
        if path is None:
            return None
        module, _, attr = path.partition(":")
        return getattr(importlib.import_module(module), attr)


_EVAL = "kerasllm.evaluation:"
_PRETRAIN = dict(job="pretrain", trainer="kerasllm.training.pretrain_job:pretrain",
                 evaluator=_EVAL + "evaluate_pretraining")

TASKS = {t.name: t for t in (
    Task("mlm", "BertMaskedLM", **_PRETRAIN,
         hf_architecture="BertForMaskedLM", hf_heads=("cls.predictions",), hf_pooler=False,
         serving="fill_masks", masked_lm=True),
    Task("nsp", "BertNSP", **_PRETRAIN,
         hf_architecture="BertForNextSentencePrediction", hf_heads=("cls.seq_relationship",),
         serving="classify", pair_labels=("is_next", "random")),
    Task("mlm+nsp", "BertPretrainer", **_PRETRAIN,
         hf_architecture="BertForPreTraining",
         hf_heads=("cls.predictions", "cls.seq_relationship"), serving="fill_masks",
         masked_lm=True),
    # Sentence order (ALBERT): transformers has no BERT class for the SOP head, so
    # sop exports as its encoder and mlm+sop as its masked-LM half.
    Task("sop", "BertSentenceOrder", **_PRETRAIN, hf_export_as="encoder",
         serving="classify", pair_labels=("in_order", "swapped")),
    Task("mlm+sop", "BertPretrainer", **_PRETRAIN, hf_export_as="mlm",
         serving="fill_masks", masked_lm=True),
    Task("classify", "BertClassifier", "finetune", trainer="kerasllm.training.classify_finetune:finetune",
         reader="kerasllm.data.classification:read_classification_file",
         evaluator=_EVAL + "evaluate_classifier",
         predictor="kerasllm.inference:predict", formatter="kerasllm.cli.predict_output:labels",
         hf_architecture="BertForSequenceClassification",
         hf_heads=("classifier",), serving="classify", labelled=True),
    Task("ner", "BertTokenClassifier", "finetune",
         trainer="kerasllm.training.tag_finetune:finetune_tagger",
         reader="kerasllm.data.tagging:read_tagging_file", evaluator="kerasllm.tagging:evaluate_tagger",
         predictor="kerasllm.tagging:tag_entities",
         formatter="kerasllm.cli.predict_output:entities", hf_architecture="BertForTokenClassification",
         hf_heads=("classifier",), hf_pooler=False, serving="entities", labelled=True),
    Task("qa", "BertQuestionAnswering", "finetune", trainer="kerasllm.training.qa_finetune:finetune_qa",
         reader="kerasllm.data.squad:read_squad_file", evaluator="kerasllm.answering:evaluate_qa",
         predictor="kerasllm.answering:answer", hf_architecture="BertForQuestionAnswering",
         hf_heads=("qa_outputs",), hf_pooler=False, serving="answers"),
    Task("encoder", "BertEncoder", hf_architecture="BertModel", serving="embed"),
    Task("lm", "LSTMLanguageModel", "train-lm", family="lstm",
         trainer="kerasllm.training.lm_job:train_lm",
         evaluator=_EVAL + "evaluate_language_model", serving="lstm"),
)}


def get(name, where="config.yaml task"):
    """The record of task ``name``; an unknown name is one clear error."""
    if name not in TASKS:
        raise KerasLLMError(f"{where} {name!r}: unknown task; known: {', '.join(TASKS)}.")
    return TASKS[name]


def names(**matching):
    """Task names, in registry order, whose fields equal ``matching`` (e.g. ``job="pretrain"``)."""
    return tuple(t.name for t in TASKS.values()
                 if all(getattr(t, k) == v for k, v in matching.items()))


def with_field(field):
    """Task names whose ``field`` is set (truthy)."""
    return tuple(t.name for t in TASKS.values() if getattr(t, field))


def for_checkpoint(architecture, heads):
    """The task of a Hugging Face checkpoint: its ``architectures[0]`` when the registry
    knows it and the file holds that class's heads, else the task whose heads are exactly
    ``heads`` (the head prefixes present); no head at all is the encoder."""
    heads = set(heads)
    for task in TASKS.values():
        if task.hf_architecture and task.hf_architecture == architecture \
                and set(task.hf_heads) == heads:
            return task
    for task in TASKS.values():
        if task.hf_architecture and set(task.hf_heads) == heads:
            return task
    return None


def build_model(name, encoder, num_classes=None, dropout=None):
    """The task model of ``name`` around ``encoder`` (the encoder itself for "encoder")."""
    from kerasllm import models

    task = get(name)
    if task.name == "encoder":
        return encoder
    kwargs = {} if num_classes is None else {"num_classes": num_classes}
    if dropout is not None:
        kwargs["dropout"] = dropout
    return getattr(models, task.model)(encoder, **kwargs)
