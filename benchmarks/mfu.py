"""Benchmark 3 — model FLOPs utilisation (MFU) and the matmul peak it is measured against.

MFU = (model FLOPs of one training step / seconds per step) / peak FLOP/s, with
the step FLOPs from ``flops.bert_training_flops`` (6 × parameters × tokens plus
attention) and the peak measured here, now, with ``tf.matmul`` on square
matrices of 1024–4096 (best of all runs): float32 on a CPU, bfloat16 on a GPU
(where the models train under the ``mixed_bfloat16`` policy).
"""
from common import Stat, gpu_names, log
from flops import bert_training_flops, matmul_peak
from pretrain_throughput import KERASHUB_MLM, KERASLLM_FULL, measured
from report import target


def peak_dtype():
    return "bfloat16" if gpu_names() else "float32"


def run_peak(settings, context):
    dtypes = ["float32", "bfloat16"] if gpu_names() else ["float32"]
    rows = []
    for dtype in dtypes:
        log(f"matmul peak {dtype}, sizes {settings.matmul_sizes}")
        result = matmul_peak(settings.matmul_sizes, settings.matmul_repeats, dtype)
        for n, rates in result["per_size"].items():
            rows.append({"dtype": dtype, "size": f"{n}×{n}",
                         "GFLOP/s": Stat.of(rates).scaled(1e-9).to_json(),
                         "best GFLOP/s": max(rates) * 1e-9})
        if dtype == peak_dtype():
            context["peak"] = {"flops": result["peak_flops"], "dtype": dtype}
    peak = context["peak"]
    section = {"title": "Dense-matmul peak of this machine (tf.matmul, 2·n³ FLOPs)",
               "columns": ["dtype", "size", "GFLOP/s", "best GFLOP/s"], "rows": rows,
               "notes": [f"Peak used for MFU: {peak['flops'] * 1e-9:,.1f} GFLOP/s "
                         f"({peak['dtype']}, best of all sizes and runs)."],
               "peak_flops": peak["flops"], "peak_dtype": peak["dtype"],
               "plot": {"x": "size", "group_by": "dtype", "series": ["GFLOP/s"],
                        "ylabel": "GFLOP/s"}}
    return {"matmul_peak": section}


def step_flops(result, name):
    nsp = name == KERASLLM_FULL
    return bert_training_flops(result["config"], result["batch_size"], result["seq_length"],
                               num_masked=result["num_masked"], nsp=nsp)


def run(settings, context):
    sections = {} if "peak" in context else run_peak(settings, context)
    peak = context["peak"]
    rows, targets = [], []
    goal = 45.0 if peak["dtype"] == "bfloat16" else 60.0
    for size in settings.mfu_sizes:
        contenders = [KERASLLM_FULL] + ([KERASHUB_MLM] if settings.mfu_with_kerashub else [])
        result = measured(context, size, settings, contenders)
        for name, step in result["step_times"].items():
            flops = step_flops(result, name)
            achieved = step.inverse(flops)  # FLOP/s per run
            mfu = achieved.scaled(100.0 / peak["flops"])
            rows.append({"model": size, "implementation": name, "batch": result["batch_size"],
                         "GFLOP/step": flops * 1e-9,
                         "achieved GFLOP/s": achieved.scaled(1e-9).to_json(),
                         "MFU %": mfu.to_json()})
            if name == KERASLLM_FULL and size == settings.mfu_target_size:
                targets.append(target(f"{size} training MFU", mfu.to_json(),
                                      f"≥ {goal:.0f} % of the {peak['dtype']} matmul peak",
                                      mfu.median >= goal))
    sections["mfu"] = {
        "title": "3. Model FLOPs utilisation (training)",
        "columns": ["model", "implementation", "batch", "GFLOP/step", "achieved GFLOP/s", "MFU %"],
        "rows": rows, "targets": targets,
        "notes": ["FLOPs/step = 6 · (encoder matmul weights · B·T + MLM head weights · B·P "
                  "+ pooler/NSP weights · B) + 12 · L · T² · H · B (attention); embeddings, "
                  "biases, norms and activations not counted (see benchmarks/flops.py).",
                  f"Peak: {peak['flops'] * 1e-9:,.1f} GFLOP/s measured {peak['dtype']} "
                  "tf.matmul on this machine in this run."],
        "plot": {"x": "model", "group_by": "implementation", "series": ["MFU %"],
                 "ylabel": "MFU %", "hline": goal}}
    return sections
