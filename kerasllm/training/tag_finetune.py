"""``kerasllm finetune --task ner``: a BertTokenClassifier on CoNLL / JSONL tagged sentences.

Same job shape as the classifier's (``kerasllm.training.classify_finetune``): --init
RUN_DIR or none, the shared trainer (strategy, precision, checkpoints,
resume, TensorBoard). Sentences become WordPiece windows
(``kerasllm.data.tag_windows``): the tag on each word's first piece, sample
weight 0 elsewhere. Tag names (``O`` first) are saved as labels.txt.
"""
import dataclasses

from kerasllm.errors import KerasLLMError
from kerasllm.training.finetune_setup import finetune_encoder, finetune_fit, finetune_start, \
    length_batches, run_finetune
from kerasllm.training.finetune_setup import held_out as held_out_data
from kerasllm.training.job import JobSpec, job_config
from kerasllm.training.models_setup import wordpiece_settings


def _read(path, options):
    from kerasllm.data.tagging import read_tagging_file

    return read_tagging_file(path, tag_column=options.get("tag_column"))


def _windows(data, tags, tokenizer, seq_length):
    from kerasllm.data.tag_windows import encode_tag_ids, encode_windows

    return encode_windows(tokenizer, data.words, seq_length, encode_tag_ids(data, tags))


def prepare(options, strategy):
    """Resolve the tagging job (see ``kerasllm.training.job``)."""
    from kerasllm.data.tagging import tag_vocabulary

    train = _read(options["train"], options)
    held_out = _read(options["eval"], options) if options.get("eval") else None
    tokenizer, tokens, model_config, from_run = finetune_start(
        options, [" ".join(words) for words in train.words])
    tags = tag_vocabulary(train)
    windows = _windows(train, tags, tokenizer, options["seq_length"])
    if len(tags) < 2:
        raise KerasLLMError(f"--train {options['train']}: every word is tagged O; a tagger "
                            f"needs at least one entity tag (B-/I-/E-/S-TYPE).")
    global_batch = options["batch_size"] * strategy.num_replicas_in_sync
    batches, data_steps, widths, tokens_per_step = length_batches(
        options, windows.x, (windows.tag_ids, windows.weights), global_batch, rows="windows")
    eval_data = None
    if held_out is not None:
        held = _windows(held_out, tags, tokenizer, options["seq_length"])
        eval_data = held_out_data(held.x, (held.tag_ids, held.weights), global_batch, widths)
    seq_length = options["seq_length"]
    fit_args = finetune_fit(options, batches, data_steps, eval_data, tokens_per_step)
    config = job_config("finetune", "ner", "bert", None if from_run else options["preset"],
                        dataclasses.asdict(model_config), wordpiece_settings(tokenizer),
                        seq_length, options)

    def build():
        from kerasllm.models import BertTokenClassifier

        model = BertTokenClassifier(finetune_encoder(options, from_run, len(tokens)),
                                    num_classes=len(tags), dropout=options["dropout"])
        return (model, *fit_args())

    return JobSpec(config=config, vocab=tokens, build=build, labels=tags)


def finetune_tagger(**options):
    """Run ``kerasllm finetune --task ner`` with the CLI's options; returns the metrics."""
    return run_finetune(prepare, options)
