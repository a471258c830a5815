"""The transformers (PyTorch) comparisons of the benchmarks (issue 17): labels, the torch
timer's FitTimer interface, and a tiny end-to-end run of the new sections."""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from common import alternate, best_setting  # noqa: E402
from torch_models import IGNORE, mlm_labels  # noqa: E402
from torch_timing import TorchTimer, mode_text  # noqa: E402


def test_mlm_labels_put_the_masked_ids_at_their_positions_and_ignore_the_rest():
    positions = np.array([[1, 3, 0], [2, 0, 0]])
    ids = np.array([[7, 8, 9], [5, 6, 6]])
    weights = np.array([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # padded slots point at 0: not labels
    labels = mlm_labels((2, 5), positions, ids, weights)
    assert labels.tolist() == [[IGNORE, 7, IGNORE, 8, IGNORE], [IGNORE, IGNORE, 5, IGNORE, IGNORE]]


class _Counting:
    """A stand-in Trainable: records the batches it trained on."""

    def __init__(self, mode):
        import torch
        self.model, self.mode, self.seen = torch.nn.Linear(1, 1), mode, []
        self.delay = {"eager": 0.0, "compile": 0.01}[mode]

    def step(self, batch):
        import time

        import torch
        time.sleep(self.delay)
        self.seen.append(batch)
        return torch.tensor(0.0)


def test_torch_timer_speaks_fittimer_so_best_setting_and_alternate_drive_it():
    settings = SimpleNamespace(jit_options=(False,), warmup=1, probe_steps=1)
    timer, probes = best_setting(_Counting, ["a", "b"], settings, jit_options=("compile", "eager"),
                                 timer_class=TorchTimer)
    assert timer.jit_compile == "eager" and set(probes) == {"compile", "eager"}
    assert timer.step_times == []  # the probe is not a repeat
    stats = alternate({"torch": timer}, repeats=3, steps=2)
    assert stats["torch"].n == 3
    assert timer.trainable.seen[:4] == ["a", "b", "a", "b"]  # cycles the fixed batches; 1 + 1 probe + 3×3
    assert len(timer.trainable.seen) == 1 + 2 + 3 * 3
    assert mode_text("eager", {"eager": 0.1, "compile": 0.2}) == "eager (probe eager 100 ms, compile 200 ms)"


def test_memory_target_compares_peaks():
    from memory import memory_targets
    rows = [{"model": "bert_base", "implementation": f"{lib} X", "peak RSS MiB": {"median": peak}}
            for lib, peak in (("kerasllm", 1000.0), ("keras-hub", 900.0), ("transformers", 1500.0))]
    [goal] = memory_targets(rows)
    assert goal["value"] == 1.5 and goal["met"] and "RSS" in goal["name"]
    for row, device_peak in zip(rows, (800.0, 700.0, 600.0)):  # on a GPU: device memory decides
        row["peak device MiB"] = {"median": device_peak}
    [goal] = memory_targets(rows)
    assert goal["value"] == 0.75 and not goal["met"] and "device" in goal["name"]


@pytest.mark.slow
def test_tiny_run_of_the_transformers_sections(tmp_path):
    """~90 s on 2 cores: slow-marked (the fast suite's budget is 60 s)."""
    command = [sys.executable, os.path.join(REPO, "benchmarks", "run.py"), "--tiny", "--only",
               "pretrain_torch,finetune_torch,embed_torch,memory", "--output-dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [json_file] = tmp_path.glob("*-tiny.json")
    sections = json.loads(json_file.read_text())["benchmarks"]
    for name in ("pretrain_torch", "pretrain_torch_ratio", "finetune_torch", "embed_torch",
                 "embed_torch_ratio", "memory"):
        assert not sections[name].get("error"), sections[name]
        assert sections[name]["rows"] and sections[name]["run"]["load_average_at_start"] is not None
    implementations = {row["implementation"] for row in sections["pretrain_torch"]["rows"]}
    assert implementations == {"kerasllm BertPretrainer (MLM+NSP)", "kerasllm BertMaskedLM (MLM)",
                               "transformers BertForPreTraining (MLM+NSP)",
                               "transformers BertForMaskedLM (MLM)"}
    assert all(row["MFU %"]["median"] > 0 for row in sections["pretrain_torch"]["rows"])
    assert len(sections["pretrain_torch_ratio"]["targets"]) == 2
    embed_rows = sections["embed_torch"]["rows"]
    assert {row["model"] for row in embed_rows} == {"bert_tiny", "minilm"}
    assert max(row["max |Δ| vs transformers"] for row in embed_rows) < 1e-4  # same weights both sides
    memory = {row["implementation"].split()[0]: row for row in sections["memory"]["rows"]}
    assert memory["transformers"]["parameters"] == memory["kerasllm"]["parameters"]
    accuracy = [row["test accuracy"] for row in sections["finetune_torch"]["rows"] if "test accuracy" in row]
    assert len(accuracy) == 2 and all(0 <= a <= 1 for a in accuracy)
    pngs = {p.name.split("-tiny_")[1] for p in tmp_path.glob("*.png")}
    assert {"pretrain_torch.png", "finetune_torch.png", "embed_torch.png", "memory.png"} <= pngs
