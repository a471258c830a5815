"""``kerasllm finetune --task qa``: a BertQuestionAnswering on SQuAD v1.1 / v2.0 JSON.

Same job shape as the classifier's (``kerasllm.training.classify_finetune``): --init
RUN_DIR or none, the shared trainer. Questions and contexts become windows
(``kerasllm.data.qa_windows``: --doc-stride, --max-query-length) labelled
with the answer's start and end token (0, the [CLS], where a window does not
hold it). A file with unanswerable questions makes a v2.0 run
(``squad_v2: true``), whose answers may be empty.
"""
import dataclasses

from kerasllm.training.finetune_setup import finetune_encoder, finetune_fit, finetune_start, \
    length_batches, run_finetune
from kerasllm.training.finetune_setup import held_out as held_out_data
from kerasllm.training.job import JobSpec, job_config
from kerasllm.training.models_setup import wordpiece_settings


def _windows(examples, tokenizer, options):
    from kerasllm.data.qa_windows import encode_qa

    windows = encode_qa(tokenizer, examples, options["seq_length"], options["doc_stride"],
                        options["max_query_length"])
    return windows, (windows.x, {"start": windows.start, "end": windows.end})


def prepare(options, strategy):
    """Resolve the question-answering job (see ``kerasllm.training.job``)."""
    from kerasllm.data.squad import read_squad_file

    train = read_squad_file(options["train"])
    held_out = read_squad_file(options["eval"]) if options.get("eval") else None
    tokenizer, tokens, model_config, from_run = finetune_start(
        options, [e.question for e in train] + sorted({e.context for e in train}))
    windows, arrays = _windows(train, tokenizer, options)
    global_batch = options["batch_size"] * strategy.num_replicas_in_sync
    x, targets = arrays
    batches, data_steps, widths, tokens_per_step = length_batches(options, x, targets, global_batch,
                                                                  rows="windows")
    eval_data = None
    if held_out is not None:
        eval_data = held_out_data(*_windows(held_out, tokenizer, options)[1], global_batch, widths)
    seq_length = options["seq_length"]
    fit_args = finetune_fit(options, batches, data_steps, eval_data, tokens_per_step)
    options["squad_v2"] = any(e.impossible for e in train)
    config = job_config("finetune", "qa", "bert", None if from_run else options["preset"],
                        dataclasses.asdict(model_config), wordpiece_settings(tokenizer),
                        seq_length, options)

    def build():
        from kerasllm.models import BertQuestionAnswering

        model = BertQuestionAnswering(finetune_encoder(options, from_run, len(tokens)))
        return (model, *fit_args())

    return JobSpec(config=config, vocab=tokens, build=build)


def finetune_qa(**options):
    """Run ``kerasllm finetune --task qa`` with the CLI's options; returns the metrics."""
    return run_finetune(prepare, options)
