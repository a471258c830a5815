"""Benchmark 12 — sentence-embedding inference, kerasllm vs transformers (PyTorch).

Per size (``settings.embed_sizes``; "minilm" = the real all-MiniLM-L6-v2), the same
checkpoint runs four ways (``embedders``): ``kerasllm.inference.embed``, the exported
SavedModel's ``serving_default``, and transformers ``BertModel`` with batches in input
order and sorted by length. Throughput: mean-pooled embeddings of ``embed_sentences``
BBC News sentences at batch ``embed_batch``, tokenization included, repeats
alternating. Latency: ``embed_calls`` single-sentence calls per embedder, in rotating
blocks (``latencies`` says why), p50 / p99. The embeddings are compared (max |difference|
after L2 normalisation).
"""
import os
import tempfile
import time
import traceback

import numpy as np

import common  # noqa: F401
from common import Stat, log
from embedders import (KerasllmEmbed, SavedModelEmbed, TorchEmbed, bbc_sentences, checkpoint_for,
                       kerasllm_run, max_difference)
from report import target
from torch_timing import device, torch_threads

EMBED = "kerasllm embed (length-sorted batches)"
SAVED = "kerasllm SavedModel serving_default (raw text, input order)"
TORCH = "transformers BertModel (input order)"
TORCH_SORTED = "transformers BertModel (length-sorted batches)"
PAIRS = {EMBED: TORCH_SORTED, SAVED: TORCH}  # like-for-like batching


def embedders(size, settings, context, work):
    checkpoint = checkpoint_for(size, settings, context, work)
    run_dir = os.path.join(work, f"{size}-run")
    run = kerasllm_run(checkpoint, run_dir)
    batch = settings.embed_batch
    return {EMBED: KerasllmEmbed(run, batch),
            SAVED: SavedModelEmbed(run_dir, os.path.join(work, f"{size}-export"), batch),
            TORCH: TorchEmbed(checkpoint, batch), TORCH_SORTED: TorchEmbed(checkpoint, batch, sort=True)}


def latencies(contenders, texts, calls, block=25):
    """ms of ``calls`` single-sentence calls per embedder, in blocks of ``block`` consecutive
    calls, the embedders' blocks rotating (load drift is shared), one untimed call opening each.

    Why blocks and not call-by-call interleaving: a call then pays for the other library's
    thread pools still spinning on the 2 cores (PyTorch's OpenMP workers busy-wait after a
    parallel region). Interleaved call by call, the identical transformers call measured
    13.1 ms p50 after itself and 19.4 ms after a TensorFlow call (2026-12-03, AMD EPYC).
    """
    times = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(-(-calls // block)):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start_text = r * block
            contenders[name].one(texts[start_text % len(texts)])  # untimed: the switch's cost
            for i in range(start_text, min(start_text + block, calls)):
                start = time.perf_counter()
                contenders[name].one(texts[i % len(texts)])
                times[name].append((time.perf_counter() - start) * 1e3)
    return times


def measure(size, settings, context, work, texts):
    texts = texts[:settings.embed_sentences_by_size.get(size, len(texts))]
    contenders = embedders(size, settings, context, work)
    reference = contenders[TORCH].all(texts[:64])
    difference = {name: max_difference(e.all(texts[:64]), reference) for name, e in contenders.items()}
    for e in contenders.values():  # warm-up: first calls trace / allocate
        e.one(texts[0])
    seconds = {name: [] for name in contenders}
    log(f"embed_torch {size}: {settings.embed_repeats} alternating passes over {len(texts)} sentences")
    for _ in range(settings.embed_repeats):
        for name, e in contenders.items():
            start = time.perf_counter()
            e.all(texts)
            seconds[name].append(time.perf_counter() - start)
    log(f"embed_torch {size}: {settings.embed_calls} single-sentence calls each")
    return seconds, latencies(contenders, texts, settings.embed_calls), difference, len(texts)


def run(settings, context):
    threads = torch_threads()
    texts = bbc_sentences(settings.embed_sentences)
    rows, ratios, targets, notes = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="kerasllm-embed-") as work:  # checkpoints, exports
        for size in settings.embed_sizes:
            try:
                seconds, single, difference, count = measure(size, settings, context, work, texts)
            except Exception as exc:  # e.g. MiniLM not installed: the other sizes still run
                traceback.print_exc()
                notes.append(f"{size} not measured: {type(exc).__name__}: {exc}".splitlines()[0][:300])
                continue
            for name in seconds:
                rows.append({"model": size, "implementation": name,
                             "sentences": count,
                             "sentences/s": Stat.of(seconds[name]).inverse(count).to_json(),
                             "1-sentence p50 ms": float(np.percentile(single[name], 50)),
                             "1-sentence p99 ms": float(np.percentile(single[name], 99)),
                             "max |Δ| vs transformers": difference[name]})
            for ours, theirs in PAIRS.items():
                speed = Stat.of([t / o for o, t in zip(seconds[ours], seconds[theirs])])
                p50 = np.percentile(single[theirs], 50) / np.percentile(single[ours], 50)
                ratios.append({"model": size, "kerasllm": ours, "transformers": theirs,
                               "throughput ×": speed.to_json(), "p50 latency ×": float(p50)})
                targets += [target(f"{size} {ours} throughput vs {theirs}", speed.to_json(), "≥ 1.0×",
                                   speed.median >= 1.0),
                            target(f"{size} {ours} 1-sentence p50 vs transformers", float(p50), "≥ 1.0×",
                                   p50 >= 1.0)]
    notes += [
        f"{len(texts)} BBC News test-article sentences"
        + "".join(f" ({n} for {size}, to fit the time budget)" for size, n in
                  settings.embed_sentences_by_size.items() if size in settings.embed_sizes)
        + f", batch {settings.embed_batch}, at most 128 tokens, "
        f"tokenization included; {settings.embed_repeats} alternating passes; latency: "
        f"{settings.embed_calls} single-sentence calls per implementation, in rotating blocks of 25.",
        "Same checkpoint on both sides (kerasllm imports it with import_checkpoint); bert_* sizes are "
        "random-init transformers BertModels saved with the BBC WordPiece vocabulary; 'minilm' is the "
        "real all-MiniLM-L6-v2. Mean pooling over real tokens; the SavedModel L2-normalises (its contract).",
        f"transformers: BertTokenizerFast padding=True, torch.inference_mode(), eager, {threads} threads "
        f"(the cores TensorFlow uses), device {device()}. Length-sorted = by characters, as sentence-transformers.",
        "GPU variant: written (device selection), not run.",
    ]
    return {"embed_torch": {
        "title": "12. Sentence-embedding inference vs transformers (PyTorch)",
        "columns": ["model", "implementation", "sentences", "sentences/s", "1-sentence p50 ms", "1-sentence p99 ms",
                    "max |Δ| vs transformers"],
        "rows": rows, "notes": notes,
        "plot": {"x": "model", "group_by": "implementation", "series": ["sentences/s"],
                 "ylabel": "sentences/s", "log": True}},
        "embed_torch_ratio": {
        "title": "12b. Inference speed ratio kerasllm / transformers (like-for-like batching)",
        "columns": ["model", "kerasllm", "transformers", "throughput ×", "p50 latency ×"],
        "rows": ratios, "targets": targets,
        "notes": ["throughput ×: per alternating pass, transformers seconds / kerasllm seconds; "
                  "p50 latency ×: transformers p50 / kerasllm p50."],
        "plot": {"x": "model", "group_by": "kerasllm", "series": ["throughput ×"],
                 "ylabel": "speed-up ×", "hline": 1.0}}}
