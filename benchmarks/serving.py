"""Benchmark 6 — serving latency: runs the export issue's ``benchmarks/serving_latency.py``.

That script (owned by the export work) exports a model and times the raw-text
``serving_default`` signature against ``predict_ids`` at batch 1 and 32 (p50 /
p99 over ≥ 200 calls). It runs here in its own process, so its TensorFlow
state and threads do not mix with the other benchmarks; its printed table is
read back from its ``--json`` output (or, without one, kept as it printed it).
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


def _options(help_text, settings, json_path):
    """Pass only the options the script says it takes."""
    options = []
    if "--json" in help_text:
        options += ["--json", json_path]
    for flag in ("--calls", "--num-calls", "--repeats"):
        if flag in help_text:
            options += [flag, str(settings.serving_calls)]
            break
    if settings.mode != "full" and "--quick" in help_text:
        options.append("--quick")
    return options


def run(settings, context):
    if not os.path.exists(SCRIPT):
        raise RuntimeError("benchmarks/serving_latency.py (the export issue's latency "
                           "benchmark) is not in this checkout.")
    python = [sys.executable, SCRIPT]
    help_text = subprocess.run(python + ["--help"], capture_output=True, text=True,
                               cwd=common.REPO_DIR).stdout
    with tempfile.TemporaryDirectory() as directory:
        json_path = os.path.join(directory, "serving.json")
        command = python + _options(help_text, settings, json_path)
        log("serving: " + " ".join(command[1:]))
        done = subprocess.run(command, capture_output=True, text=True, cwd=common.REPO_DIR)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"serving_latency.py exited {done.returncode}: {tail}")
        data = None
        if os.path.exists(json_path):
            with open(json_path) as f:
                data = json.load(f)
    section = {
        "title": "6. Serving latency of the exported SavedModel (raw text vs token ids)",
        "notes": ["From benchmarks/serving_latency.py (" + " ".join(command[2:]) + "), run in "
                  "its own process: p50 / p99 of single signature calls after 2 warm-up calls."]}
    if data and data.get("rows"):
        section.update(_table(data))
    else:  # no JSON: keep what it printed
        section["text"] = done.stdout.strip()
    return {"serving": section}


def _table(data):
    goal = data.get("target", 1.2)
    rows = [{"batch": r["batch"], "calls": r["calls"],
             "raw text p50 ms": r["text_p50_ms"], "raw text p99 ms": r["text_p99_ms"],
             "token ids p50 ms": r["ids_p50_ms"], "token ids p99 ms": r["ids_p99_ms"],
             "p50 ratio text / ids": r["ratio_p50"]} for r in data["rows"]]
    targets = [target(f"batch {r['batch']} raw-text p50 / ids p50", r["ratio_p50"],
                      f"≤ {goal}", r["ratio_p50"] <= goal) for r in data["rows"]]
    return {"columns": list(rows[0]), "rows": rows, "targets": targets, "data": data,
            "plot": {"x": "batch", "series": ["raw text p50 ms", "token ids p50 ms"],
                     "ylabel": "ms (p50)"}}
