"""Mistakes are reported before TensorFlow is imported (< 1 s), and TensorFlow's noise is hidden."""
import json
import subprocess
import sys

import pytest

from kerasllm.cli.quiet_logs import is_noise
from kerasllm.runs import write_config
from tiny_runs import bert_run
from training_helpers import env

# Runs each argv with the real entry point in one process and reports, per command, its exit
# status, its time and whether TensorFlow got imported (it must not be, for these mistakes).
PROBE = """
import json, sys, time
from kerasllm.cli.main import main
for argv in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    print(json.dumps({"argv": argv, "code": code, "seconds": time.perf_counter() - start,
                      "tensorflow": "tensorflow" in sys.modules}), flush=True)
"""


def _mistakes(tmp):
    for name, job, task, family in (("clf", "finetune", "classify", "bert"),
                                    ("mlm", "pretrain", "mlm+nsp", "bert"),
                                    ("lm", "train-lm", "lm", "lstm")):
        (tmp / name).mkdir()
        write_config(tmp / name, {"job": job, "task": task, "family": family, "model": {},
                                  "tokenizer": {}, "seq_length": 8})
    corpus, empty, config = tmp / "corpus.txt", tmp / "empty.txt", tmp / "c.yaml"
    corpus.write_text("a b c .\n")
    empty.write_text("")
    config.write_text("steps: 2.5\n")
    missing, out = str(tmp / "missing*.txt"), str(tmp / "out")
    return [
        ["pretrain", "--corpus", missing, "--output", out],
        ["pretrain", "--corpus", str(corpus), "--examples", str(tmp), "--output", out],
        ["pretrain", "--config", str(config), "--corpus", str(corpus), "--output", out],
        ["pretrain", "--corpus", str(corpus), "--vocab", str(tmp), "--output", out],
        ["finetune", "--init", "none", "--train", str(tmp / "no.csv"), "--output", out],
        ["finetune", "--init", str(tmp / "lm"), "--train", str(corpus), "--output", out],
        ["finetune", "--init", "none", "--train", str(corpus), "--output", str(tmp / "mlm")],
        ["train-lm", "--corpus", str(corpus), "--eval", missing, "--output", out],
        ["vocab", "--corpus", str(empty), "--output", str(tmp / "v.txt")],
        ["data", "pretrain", "--corpus", missing, "--vocab", str(corpus), "--output", out],
        ["evaluate", str(tmp / "lm"), "--data", missing],
        ["predict", str(tmp / "mlm"), "--text", "x"],
        ["fill-mask", str(tmp / "clf"), "a [MASK]"],
        ["generate", str(tmp / "clf"), "--prompt", "x"],
        ["embed", str(tmp / "lm"), "--text", "x"],
        ["export", str(tmp / "missing"), "--output", out],
        ["export-hf", str(tmp / "lm"), "--output", out],
        ["import-hf", str(tmp / "missing"), "--output", out],
    ]


def test_mistakes_are_reported_before_the_tensorflow_import(tmp_path):
    commands = _mistakes(tmp_path)
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], env=env(),
                         capture_output=True, text=True, timeout=120)
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(reports) == len(commands), out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == len(commands) and "Traceback" not in out.stderr, out.stderr
    for report in reports:
        assert report["code"] in (1, 2) and not report["tensorflow"], report  # 2: click usage
    slowest = max(reports, key=lambda r: r["seconds"])
    assert slowest["seconds"] < 1.0, slowest  # TensorFlow's import alone takes 5-15 s here


def test_known_tensorflow_noise_is_recognised():
    noise = [b"WARNING: All log messages before absl::InitializeLog() is called are written to "
             b"STDERR",
             b"I0000 00:00:1796235676.050465    3224 port.cc:153] oneDNN custom operations are on.",
             b"E0000 00:00:1796235678.197876    3224 cuda_platform.cc:52] failed call to cuInit: "
             b"INTERNAL: CUDA error",
             b"W0000 00:00:1796235678.1    3224 op_level_cost_estimator.cc:699] NodeDef mentions "
             b"attribute use_inter_op_parallelism"]
    kept = [b"Error: /tmp/x: run directory not found.", b"Warning: invalid UTF-8 ...",
            b"E0000 00:00:1796235678.197876    3224 file.cc:1] a real failure"]
    assert all(is_noise(line) for line in noise)
    assert not any(is_noise(line) for line in kept)


@pytest.mark.slow
def test_tensorflow_noise_hidden_unless_verbose(tmp_path):
    run = bert_run(tmp_path / "clf", "classify", ["a", "b"])
    command = [sys.executable, "-m", "kerasllm.cli.main"]
    quiet = subprocess.run(command + ["predict", str(run.path), "--text", "the cat"],
                           env=env(), capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and quiet.stdout.startswith(("a\t", "b\t")), quiet.stderr
    assert "absl::InitializeLog" not in quiet.stderr and "oneDNN" not in quiet.stderr
    loud = subprocess.run(command + ["--verbose", "predict", str(run.path), "--text", "the cat"],
                          env=env(), capture_output=True, text=True, timeout=300)
    assert loud.returncode == 0 and loud.stdout == quiet.stdout
    assert "absl::InitializeLog" in loud.stderr or "oneDNN" in loud.stderr, loud.stderr
