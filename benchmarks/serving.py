"""Benchmark 6 — serving latency: runs the export issue's ``benchmarks/serving_latency.py``.

That script (owned by the export work) exports a model and times the raw-text
``serving_default`` signature against ``predict_ids`` at batch 1 and 32 (p50 /
p99 over ≥ 200 calls). It runs here in its own process, so its TensorFlow
state and threads do not mix with the other benchmarks; its printed table is
included as it prints it, and its ``--json`` output (when it offers one) is
kept in the results JSON.
"""
import json
import os
import subprocess
import sys
import tempfile

import common
from common import log

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
    printed = done.stdout.strip()
    return {"serving": {
        "title": "6. Serving latency of the exported SavedModel (raw text vs token ids)",
        "text": printed, "data": data,
        "notes": ["From benchmarks/serving_latency.py (" + " ".join(command[2:]) + "), run "
                  "in its own process; its own README section explains the set-up."]}}
