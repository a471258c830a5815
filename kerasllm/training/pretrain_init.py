"""``pretrain --init RUN_DIR``: continue pretraining a BERT run on new text.

The common use of a pretraining pipeline is not from scratch: take a
pretrained BERT (an ``import-hf`` run or a kerasllm run), continue masked-LM
training on your own domain's text, then fine-tune (Gururangan et al. 2020,
"Don't stop pretraining"). The run keeps its vocabulary and lower-casing and
its sizes; what happens to its heads:

- the run's task is this job's task (e.g. an imported ``BertForMaskedLM`` and
  ``--task mlm``): the whole model continues, heads included;
- otherwise the encoder continues, an MLM head the run had is kept when this
  task has one too, and every other head is new (a new MLM head's decoder is
  tied to the token embeddings, as BERT's is). An encoder-only import (e.g.
  all-MiniLM-L6-v2) therefore starts with a new MLM head.
The choice is said in one line at start-up.
"""
from kerasllm import tasks
from kerasllm.errors import KerasLLMError


def is_init(options):
    """Whether the job continues from ``--init RUN_DIR``."""
    return str(options.get("init") or "none").lower() != "none"


def init_start(options):
    """``(tokenizer, tokens, BertConfig, init_task)`` of --init RUN_DIR, checked against the options."""
    from kerasllm import runs
    from kerasllm.data import WordPieceTokenizer
    from kerasllm.presets import BertConfig

    where = f"--init {options['init']}"
    config = runs.read_config(options["init"])
    if config.get("family") != "bert":
        raise KerasLLMError(f"{where}: a {config.get('family')} run; continued pretraining "
                            f"needs a BERT run (pretrain or import-hf).")
    tokenizer = runs.load_tokenizer_for(options["init"], config)
    tokens = list(tokenizer.vocabulary)
    if options.get("vocab") and list(WordPieceTokenizer(options["vocab"]).vocabulary) != tokens:
        raise KerasLLMError(f"--vocab {options['vocab']} differs from {where}'s vocab.txt; the "
                            f"run's embeddings belong to its own vocabulary: drop --vocab.")
    model_config = BertConfig(**config["model"])
    if model_config.max_sequence_length < options["seq_length"]:
        raise KerasLLMError(f"--seq-length {options['seq_length']} exceeds {where}'s "
                            f"max_sequence_length {model_config.max_sequence_length}.")
    return tokenizer, tokens, model_config, config.get("task")


def init_model(options, task, init_task):
    """The model to train (call in the strategy scope) and the start-up line saying what it kept."""
    from kerasllm import runs
    from kerasllm.models import BertEncoder

    loaded = runs.load_model(options["init"])
    where = f"--init {options['init']} ({init_task})"
    if init_task == task:
        return loaded, f"{where}: continuing the whole {task} model, heads included."
    encoder = loaded if isinstance(loaded, BertEncoder) else loaded.encoder
    model = tasks.build_model(task, encoder)
    kept_mlm = hasattr(loaded, "masked_lm_head") and hasattr(model, "masked_lm_head")
    if kept_mlm:
        _copy_weights(loaded.masked_lm_head, model.masked_lm_head)
    # A functional task model lists the encoder's own sublayers among its layers (it calls
    # them directly, e.g. BertMaskedLM's encode_at): those are kept, not new.
    kept = {id(w) for w in encoder.weights}
    new = [layer.name for layer in model.layers if layer is not encoder and layer.weights
           and not all(id(w) in kept for w in layer.weights)
           and not (kept_mlm and layer is model.masked_lm_head)]
    said = f"{where}: its encoder" + (" and its MLM head" if kept_mlm else "")
    if new:
        said += f"; new {', '.join(new)}"
        if not kept_mlm and hasattr(model, "masked_lm_head"):
            said += " (the MLM decoder tied to the token embeddings)"
    return model, said + "."


def _copy_weights(source, target):
    """Assign ``source`` layer's weights to ``target`` (same layer class and sizes), by
    their path inside the layer; a tied embedding table is the encoder's and is already kept."""
    mine = {w.path.split("/", 1)[-1]: w for w in target.weights}
    for weight in source.weights:
        key = weight.path.split("/", 1)[-1]
        if key not in mine or tuple(mine[key].shape) != tuple(weight.shape):
            raise KerasLLMError(f"--init: the run's masked-LM head weight {weight.path} has no "
                                f"counterpart of shape {tuple(weight.shape)} in the new model.")
        mine[key].assign(weight)
