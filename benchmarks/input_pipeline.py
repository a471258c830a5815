"""Benchmark 4 — can the streaming pretraining pipeline feed the trainer? (needs ≥ 10×)

Producer: ``pipeline_throughput.streaming_rate`` (the text-pipeline benchmark):
sequences/s of the streaming MLM+NSP ``tf.data`` pipeline over the BBC News
training articles — pairs planned, packed, dynamically masked every epoch —
iterated on its own, first epoch excluded.
Consumer: sequences/s of kerasllm ``BertPretrainer`` training steps at the same
sequence length (benchmark 1's figure for that size, measured again if
benchmark 1 did not run). Ratio = producer / consumer, per the medians, with
the worst case (slowest pipeline epoch / fastest training repeat) beside it.
"""
import os
import tempfile
from types import SimpleNamespace

import common  # noqa: F401
from common import log
from finetune_throughput import training_vocabulary
from pretrain_throughput import KERASLLM_FULL, measured
from report import target


def pipeline_rate(settings, batch_size, context):
    import pipeline_throughput as pt
    from kerasllm.data import TokenizedCorpus, VocabularyInfo, bbc_news, write_vocabulary
    documents = bbc_news("train")
    with tempfile.TemporaryDirectory() as directory:
        vocab_file = write_vocabulary(training_vocabulary(settings.finetune_vocab_size, context),
                                      os.path.join(directory, "vocab.txt"))
        args = SimpleNamespace(seq_length=settings.seq_length, max_predictions=settings.num_masked,
                               batch_size=batch_size, epochs=settings.pipeline_epochs, seed=12345,
                               vocab=vocab_file)
        tokenizer, _ = pt.tokenizer_for(documents, args, directory)
    corpus = TokenizedCorpus.from_documents(documents, tokenizer)
    return pt.streaming_rate(corpus, VocabularyInfo.from_tokenizer(tokenizer), args,
                             whole_word_masking=False)


def run(settings, context):
    size = settings.pipeline_trainer_size
    log(f"pipeline: trainer consumption of {size}")
    trained = measured(context, size, settings, [KERASLLM_FULL])
    if KERASLLM_FULL not in trained["step_times"]:
        raise RuntimeError(f"kerasllm BertPretrainer could not train: {trained['errors']}")
    consumer = trained["step_times"][KERASLLM_FULL].inverse(trained["batch_size"])
    log(f"pipeline: streaming MLM+NSP, {settings.pipeline_epochs} timed epochs")
    produced = pipeline_rate(settings, trained["batch_size"], context)
    producer = {"median": produced["seq_per_s_median"], "min": produced["seq_per_s_min"],
                "max": produced["seq_per_s_max"], "n": produced["epochs"]}
    ratio = producer["median"] / consumer.median
    worst = producer["min"] / consumer.max
    rows = [
        {"stage": "streaming MLM+NSP pipeline (producer)", "sequences/s": producer,
         "detail": f"{produced['sequences_per_epoch']:,} sequences/epoch, batch "
                   f"{trained['batch_size']}; {produced['seq_per_cpu_s']:,.0f} seq per CPU-second"},
        {"stage": f"kerasllm BertPretrainer {size} training (consumer)",
         "sequences/s": consumer.to_json(), "detail": f"batch {trained['batch_size']}"},
        {"stage": "producer / consumer", "sequences/s": ratio,
         "detail": f"worst case {worst:,.1f}×", "_no_plot": True},
    ]
    return {"pipeline": {
        "title": f"4. Input pipeline vs trainer (sequence length {settings.seq_length})",
        "columns": ["stage", "sequences/s", "detail"], "rows": rows,
        "targets": [target("pipeline / trainer", ratio, "≥ 10×", ratio >= 10)],
        "notes": ["The pipeline is timed alone (iterated without training), on the same "
                  "machine; during fit it shares the cores with the trainer.",
                  "Producer: benchmarks/pipeline_throughput.py (streaming_rate)."],
        "plot": {"x": "stage", "series": ["sequences/s"], "ylabel": "sequences/s", "log": True}}}
