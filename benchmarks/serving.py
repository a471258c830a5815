"""Benchmark 6 — serving latency: runs the export issue's ``benchmarks/serving_latency.py``.

That script exports a classifier and times the raw-text ``serving_default``
signature against ``predict_ids`` at batch 1 and 32 (p50 / p99 over ≥ 200
calls). It runs in its own process per preset, so its TensorFlow state and
threads do not mix with the other benchmarks; its ``--json`` output is read back.
"""
import json
import os
import subprocess
import sys
import tempfile

import common
from common import log
from report import target

SCRIPT = os.path.join(common.BENCH_DIR, "serving_latency.py")


def _measure(preset, settings, directory):
    """Runs the script for one preset; returns its JSON results and the command's options."""
    json_path = os.path.join(directory, f"serving_{preset}.json")
    options = ["--json", json_path, "--calls", str(settings.serving_calls), "--preset", preset]
    if settings.mode != "full":
        options.append("--quick")
    log("serving: serving_latency.py " + " ".join(options))
    done = subprocess.run([sys.executable, SCRIPT] + options, capture_output=True, text=True,
                          cwd=common.REPO_DIR)
    if done.returncode != 0 or not os.path.exists(json_path):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"serving_latency.py {preset} exited {done.returncode}: {tail}")
    with open(json_path) as f:
        return json.load(f), [o for o in options if not o.startswith(directory)]


def run(settings, context):
    results, commands = [], []
    with tempfile.TemporaryDirectory() as directory:
        for preset in settings.serving_presets:
            data, options = _measure(preset, settings, directory)
            results.append(data)
            commands.append(" ".join(o for o in options if o != "--json"))
    section = {
        "title": "6. Serving latency of the exported SavedModel (raw text vs token ids)",
        "notes": [f"From `python benchmarks/serving_latency.py {c}`" for c in commands] + [
            "Each run exports a BBC-topic classifier (vocabulary learned from BBC News, random "
            "weights: latency does not depend on them) and loads it with tf.saved_model.load "
            "in its own process; p50 / p99 of single signature calls on random BBC test "
            "sentences, the two signatures called alternately (2 warm-up calls each). "
            "bert_tiny is the hardest case for the target: its model is so small that "
            "tokenization weighs most."]}
    section.update(_table(results))
    return {"serving": section}


def _table(results):
    rows, targets = [], []
    for data in results:
        goal = data.get("target", 1.2)
        for r in data["rows"]:
            case = f"{data['preset']}, batch {r['batch']}"
            rows.append({"case": case, "calls": r["calls"],
                         "raw text p50 ms": r["text_p50_ms"], "raw text p99 ms": r["text_p99_ms"],
                         "token ids p50 ms": r["ids_p50_ms"], "token ids p99 ms": r["ids_p99_ms"],
                         "p50 ratio text / ids": r["ratio_p50"]})
            targets.append(target(f"{case} raw-text p50 / ids p50", r["ratio_p50"],
                                  f"≤ {goal}", r["ratio_p50"] <= goal))
    return {"columns": list(rows[0]), "rows": rows, "targets": targets, "data": results,
            "plot": {"x": "case", "series": ["raw text p50 ms", "token ids p50 ms"],
                     "ylabel": "ms (p50)", "log": True}}
