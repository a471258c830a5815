"""Serving latency of an exported classifier: raw-text ``serving_default`` vs ``predict_ids``.

Builds a bert_tiny BBC-topic classifier run (vocabulary learned from BBC News,
random weights: latency does not depend on them), exports it with
``kerasllm export`` and loads the SavedModel with ``tf.saved_model.load``. Then
times single calls of both signatures at batch 1 and 32 on BBC sentences:

- ``serving_default``: raw strings in; tokenization + packing + model in the graph;
- ``predict_ids``: already packed int32 ids of the same texts (model only), padded to the
  longest text of the batch as ``serving_default`` pads them.

Target (issue 5): raw-text p50 <= 1.2 x ids-only p50.

    python benchmarks/serving_latency.py [--calls 200] [--json out.json] [--quick]
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET = 1.2


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per case (>= 200)")
    parser.add_argument("--json", default=None, help="write the results here as JSON")
    parser.add_argument("--quick", action="store_true", help="smaller vocabulary, 50 calls")
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--preset", default="bert_tiny")
    return parser.parse_args(argv)


def make_run(run_dir, preset, seq_length, vocab_size):
    """A classifier run dir: learned BBC vocabulary + a fresh ``preset`` classifier."""
    from kerasllm import models
    from kerasllm.data import learn_vocabulary
    from kerasllm.data.datasets import BBC_LABELS, bbc_news
    from kerasllm.runs import save_run

    lines = [line for doc in bbc_news("train")[:400] for line in doc.lines]
    vocab = learn_vocabulary(lines, vocab_size)
    model = models.BertClassifier.from_preset(preset, vocabulary_size=len(vocab),
                                              num_classes=len(BBC_LABELS))
    config = {"job": "finetune", "task": "classify", "family": "bert", "preset": preset,
              "model": model.encoder.get_config(), "seq_length": seq_length, "text_pair": False,
              "tokenizer": {"type": "wordpiece", "lowercase": True, "strip_accents": True}}
    save_run(run_dir, config, model, vocab, labels=list(BBC_LABELS))
    return [line for doc in bbc_news("test")[:100] for line in doc.lines[1:]]


def interleaved_percentiles(text_call, ids_call, calls):
    """p50 / p99 ms of both calls, timed alternately so load changes hit both alike."""
    for _ in range(2):  # warm up (first calls trace / allocate)
        text_call(), ids_call()
    times = {"text": [], "ids": []}
    for i in range(calls):
        order = (("text", text_call), ("ids", ids_call))
        for name, call in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: (float(np.percentile(t, 50)), float(np.percentile(t, 99)))
            for name, t in times.items()}


def main(argv=None):
    args = parse_args(argv)
    calls = 50 if args.quick and args.calls == 200 else args.calls
    import tensorflow as tf

    from kerasllm.export.exporter import export_run

    tf.random.set_seed(0)
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sentences = make_run(os.path.join(tmp, "run"), args.preset, args.seq_length,
                             2000 if args.quick else 8000)
        path, _, _ = export_run(os.path.join(tmp, "run"), os.path.join(tmp, "served"))
        loaded = tf.saved_model.load(str(path))
        text_fn, ids_fn = loaded.signatures["serving_default"], loaded.signatures["predict_ids"]
        for batch in (1, 32):
            texts = tf.constant(list(rng.choice(sentences, batch)))
            ids = ids_for(os.path.join(tmp, "run"), texts)
            timed = interleaved_percentiles(lambda: text_fn(text=texts), lambda: ids_fn(**ids),
                                            calls)
            (text_p50, text_p99), (ids_p50, ids_p99) = timed["text"], timed["ids"]
            rows.append({"batch": batch, "calls": calls, "text_p50_ms": text_p50,
                         "text_p99_ms": text_p99, "ids_p50_ms": ids_p50, "ids_p99_ms": ids_p99,
                         "ratio_p50": text_p50 / ids_p50})
    print(f"Serving latency, {args.preset} classifier, seq_length {args.seq_length}, "
          f"{calls} calls per case, tf {tf.__version__}, {os.cpu_count()} CPU(s)")
    print(f"{'batch':>5} {'text p50':>9} {'text p99':>9} {'ids p50':>8} {'ids p99':>8} "
          f"{'p50 ratio':>9}  target <= {TARGET}")
    for r in rows:
        verdict = "ok" if r["ratio_p50"] <= TARGET else "MISSED"
        print(f"{r['batch']:>5} {r['text_p50_ms']:>7.2f}ms {r['text_p99_ms']:>7.2f}ms "
              f"{r['ids_p50_ms']:>6.2f}ms {r['ids_p99_ms']:>6.2f}ms {r['ratio_p50']:>9.3f}  {verdict}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"preset": args.preset, "seq_length": args.seq_length, "target": TARGET,
                       "rows": rows}, f, indent=2)
    return 0


def ids_for(run_dir, texts):
    """The packed ids ``serving_default`` computes for ``texts`` (same tokenizer, same shape)."""
    import tensorflow as tf

    from kerasllm.data import pack_inputs, trim_to_longest
    from kerasllm.runs import load_run

    run = load_run(run_dir, model=False)
    packed = trim_to_longest(pack_inputs(run.tokenizer, run.tokenizer.tokenize(texts),
                                         seq_length=run.config["seq_length"]))
    return {k: tf.constant(v, tf.int32) for k, v in packed.items()}


if __name__ == "__main__":
    sys.exit(main())
