"""Benchmark 8 — semantic search with all-MiniLM-L6-v2: index build and query latency.

Measures the product's own code paths: ``kerasllm.search.build_index`` (what
``kerasllm index`` runs: tokenise, embed in chunks, write shards) for the
throughput in documents/s, and ``kerasllm.search.search_texts`` (what
``kerasllm search`` runs: embed the query, one matrix product, top-k) for the
latency of single queries at 10k and 100k documents, plus the exported
SavedModel's raw-text ``search`` signature where the settings ask for it.

Documents are BBC News sentences (real text, 25 words on average). Embedding
100k of them would take most of an hour on 2 cores, and search latency does not
depend on the vectors' values, so the larger indexes repeat the embedded
sentences' rows (with their own ids) up to the size; the throughput figure
comes from really embedding ``search_embed_docs`` sentences.
"""
import os
import tempfile
import time

import numpy as np

from common import Stat, log

QUERIES = ["interest rates and the economy", "who won the football match",
           "a new mobile phone", "the prime minister and the election", "a film award"]


def _sentences(count):
    from kerasllm.data.datasets import bbc_news

    lines = [line for doc in bbc_news("all") for line in doc.lines[1:] if len(line) > 20]
    return [lines[i % len(lines)] for i in range(count)]


def _import_minilm(directory):
    from kerasllm.checkpoints import import_checkpoint
    from kerasllm.runs import load_run

    import_checkpoint("all-MiniLM-L6-v2", os.path.join(directory, "minilm"))
    return load_run(os.path.join(directory, "minilm"))


def _grow(index, size):
    """Add rows (repeats of the embedded ones, new ids) through ``add_chunk`` up to ``size``."""
    base_ids, base_texts, base = list(index.ids), list(index.texts), index.embeddings
    while len(index) < size:
        n = min(len(base_ids), size - len(index))
        start = len(index)
        index.add_chunk([f"copy{start + i}" for i in range(n)], base_texts[:n], base[:n])
    return index


def _percentiles(call, calls):
    call()  # warm-up
    times = []
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def _saved_model_latency(index_dir, directory, calls):
    import tensorflow as tf

    from kerasllm.export.exporter import export_run

    path, _, _ = export_run(index_dir, os.path.join(directory, "served"))
    search = tf.saved_model.load(str(path)).signatures["search"]
    return _percentiles(lambda i=0: search(query=tf.constant([QUERIES[i % len(QUERIES)]]),
                                           top_k=tf.constant(5)), calls)


def run(settings, context):
    from kerasllm.search import build_index, search_texts

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        run_dir = _import_minilm(directory)
        texts = _sentences(settings.search_embed_docs)
        docs = [(f"s{i}", t) for i, t in enumerate(texts)]
        index_dir = os.path.join(directory, "index")
        start = time.perf_counter()
        index, _ = build_index(run_dir, docs, index_dir, batch_size=32)
        seconds = time.perf_counter() - start
        rate = len(docs) / seconds
        log(f"search: embedded {len(docs)} sentences in {seconds:.1f} s ({rate:.1f} docs/s)")
        for size in settings.search_sizes:
            _grow(index, size)
            p50, p99 = _percentiles(lambda i=0: search_texts(
                index, run_dir, [QUERIES[i % len(QUERIES)]], top_k=5), settings.search_calls)
            row = {"documents": size, "kerasllm search p50 ms": round(p50, 2),
                   "kerasllm search p99 ms": round(p99, 2)}
            if settings.search_export:
                p50, p99 = _saved_model_latency(index_dir, directory, settings.search_calls)
                row.update({"SavedModel p50 ms": round(p50, 2), "SavedModel p99 ms": round(p99, 2)})
            log(f"search: {row}")
            rows.append(row)
    section = {
        "title": "8. Semantic search with all-MiniLM-L6-v2: index throughput and query latency",
        "notes": [
            f"Index build: `build_index` (the code of `kerasllm index`) embedded "
            f"{len(docs)} BBC News sentences at {rate:.1f} docs/s "
            f"({seconds:.1f} s, batch 32, chunks of 256, texts cut at 256 tokens).",
            "Query latency: one query per call, top 5, exact search (query embedding + one "
            "matrix product + top-k), p50 / p99 over "
            f"{settings.search_calls} calls after one warm-up. Indexes larger than the "
            "embedded sentences repeat their rows (latency does not depend on the values).",
            "SavedModel: the exported index's raw-text `search(query, top_k)` signature "
            "loaded with tf.saved_model.load in the same process."
            if settings.search_export else "SavedModel latency not measured in this mode."],
        "index_docs_per_s": Stat.of([rate]).to_json(),
        "columns": list(rows[0]), "rows": rows,
    }
    return {"search": section}
