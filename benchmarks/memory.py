"""Benchmark 7 — peak resident memory of BERT pretraining (MLM+NSP) at batch 32, seq 128.

Each run is a fresh Python process (so nothing else this harness allocated is
counted) that builds the model, trains ``steps`` steps with ``model.fit`` on
the benchmark's synthetic batches and reports ``VmHWM`` from ``/proc/self/status``
— the peak RSS of the whole process, TensorFlow runtime included. Not
``ru_maxrss``: Linux carries the parent's peak into a forked child across
``exec``, so every child reported the harness's own peak (4,015 MiB for both
libraries in the first quick run). keras-hub's MLM-only model is
run the same way for reference, and transformers' ``BertForPreTraining`` (PyTorch,
``torch_models``: same batch, labels -100 off the masked slots, AdamW, eager) in a
process that never imports TensorFlow.

GPU variant: where a GPU is visible, each child also reports its peak device
memory, ``tf.config.experimental.get_memory_info("GPU:0")["peak"]`` (bytes held
by TensorFlow's allocator at its peak) or ``torch.cuda.max_memory_allocated()``;
the target then compares those, since RSS says little of a GPU step.

    python benchmarks/memory.py --size bert_base --batch 32 --library kerasllm
"""
import argparse
import json
import os
import subprocess
import sys

import common  # noqa: F401
from common import Stat, log
from report import target

LIBRARIES = ("kerasllm", "keras-hub", "transformers")
DEVICE_COLUMN = "peak device MiB"
MODELS = {"kerasllm": "BertPretrainer (MLM+NSP)", "keras-hub": "BertMaskedLM (MLM)",
          "transformers": "BertForPreTraining (MLM+NSP)"}


def peak_rss_kib():
    """This process's peak resident set (VmHWM, KiB), reset at exec unlike ru_maxrss."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM line in /proc/self/status (Linux only)")


def tf_peak_device_mib():
    """Peak bytes TensorFlow's allocator held on the first GPU (MiB), None without a GPU."""
    import tensorflow as tf
    if not tf.config.list_logical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


def torch_peak_device_mib():
    """Peak bytes PyTorch's caching allocator handed out on the GPU (MiB), None without one."""
    import torch
    return torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None


def torch_child(args, config, arrays):
    """One transformers training process: no TensorFlow in it, so its baseline is PyTorch's."""
    import psutil
    from torch_models import build_pretraining, pretraining_batches
    from torch_timing import torch_threads
    torch_threads()
    batches = pretraining_batches(arrays, with_nsp=True)
    before_build = psutil.Process().memory_info().rss
    trainable = build_pretraining("BertForPreTraining")(config, "eager")
    for step in range(args.steps):
        float(trainable.step(batches[step % len(batches)]))
    return {"peak_rss_mib": peak_rss_kib() / 1024, "rss_before_model_mib": before_build / 2**20,
            "peak_device_mib": torch_peak_device_mib(),
            "parameters": sum(p.numel() for p in trainable.model.parameters())}


def child(args):
    from bert_models import bert_config, synthetic_pretraining_arrays
    config = bert_config(args.size, **json.loads(args.overrides))
    arrays = synthetic_pretraining_arrays(config, args.batch, args.seq, args.masked, num_batches=1)
    if args.library == "transformers":
        print(json.dumps(torch_child(args, config, arrays)))
        return
    import psutil
    from bert_models import build_kerashub_mlm, build_kerasllm_pretrainer, pretraining_dataset
    import keras  # noqa: F401  (runtime loaded before the baseline is read)
    import keras_hub  # noqa: F401
    dataset = pretraining_dataset(arrays, with_nsp=args.library == "kerasllm")
    process = psutil.Process()
    before_build = process.memory_info().rss
    build = build_kerasllm_pretrainer if args.library == "kerasllm" else build_kerashub_mlm
    model = build(config, False)
    model.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0, shuffle=False)
    print(json.dumps({"peak_rss_mib": peak_rss_kib() / 1024,
                      "rss_before_model_mib": before_build / 2**20,
                      "peak_device_mib": tf_peak_device_mib(),
                      "parameters": int(model.count_params())}))


def run_child(library, size, settings):
    command = [sys.executable, os.path.abspath(__file__), "--child", "--library", library,
               "--size", size, "--batch", str(settings.memory_batch),
               "--seq", str(settings.seq_length), "--masked", str(settings.num_masked),
               "--steps", str(settings.memory_steps),
               "--overrides", json.dumps(settings.bert_overrides)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=common.REPO_DIR)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory run for {library} exited {done.returncode}: {tail}")
    return json.loads(lines[-1])


def memory_targets(rows):
    """transformers' peak / kerasllm's (≥ 1.0×: kerasllm needs no more memory), as issue 17 asks:
    device memory where both ran on a GPU, else the processes' RSS."""
    column = DEVICE_COLUMN if all(DEVICE_COLUMN in row for row in rows) else "peak RSS MiB"
    peak = {row["implementation"].split()[0]: row[column]["median"] for row in rows}
    if "kerasllm" not in peak or "transformers" not in peak:
        return []
    ratio = peak["transformers"] / peak["kerasllm"]
    what = "peak device memory" if column == DEVICE_COLUMN else "peak RSS"
    return [target(f"{rows[0]['model']} {what}, transformers / kerasllm", round(ratio, 3), "≥ 1.0×",
                   ratio >= 1.0)]


def run(settings, context):
    size = settings.memory_size
    rows, notes = [], []
    for library in LIBRARIES:
        runs = []
        try:
            for i in range(settings.memory_runs):
                log(f"memory {size} {library}: run {i + 1}/{settings.memory_runs}")
                runs.append(run_child(library, size, settings))
        except RuntimeError as exc:
            notes.append(f"{library} not measured: {exc}")
            continue
        rows.append({"model": size, "implementation": f"{library} {MODELS[library]}",
                     "batch × seq": f"{settings.memory_batch} × {settings.seq_length}",
                     "parameters": runs[0]["parameters"],
                     "peak RSS MiB": Stat.of([r["peak_rss_mib"] for r in runs]).to_json(),
                     "RSS before model MiB": Stat.of([r["rss_before_model_mib"] for r in runs]).to_json(),
                     "training MiB (peak − before)": Stat.of([r["peak_rss_mib"] - r["rss_before_model_mib"]
                                                              for r in runs]).to_json()})
        if all(r.get("peak_device_mib") is not None for r in runs):
            rows[-1][DEVICE_COLUMN] = Stat.of([r["peak_device_mib"] for r in runs]).to_json()
    notes.append(f"Peak RSS (VmHWM) of a fresh process that builds the model and trains "
                 f"{settings.memory_steps} step(s) (AdamW, XLA off); includes the TensorFlow "
                 "runtime ('RSS before model': the process with TensorFlow, Keras and the data loaded).")
    notes.append("transformers: BertForPreTraining, same batch and masked positions, torch AdamW, "
                 "eager, float32, in a process without TensorFlow (its 'RSS before model' is "
                 "PyTorch + transformers + the data; 'training MiB' leaves each runtime out).")
    on_gpu = any(DEVICE_COLUMN in row for row in rows)
    notes.append("GPU variant: peak device memory (TensorFlow's allocator peak, "
                 "torch.cuda.max_memory_allocated) " + ("measured." if on_gpu else "written, not run (no GPU)."))
    return {"memory": {
        "title": "7. Peak memory of BERT pretraining",
        "targets": memory_targets(rows),
        "columns": ["model", "implementation", "batch × seq", "parameters", "peak RSS MiB",
                    "RSS before model MiB", "training MiB (peak − before)",
                    *([DEVICE_COLUMN] if on_gpu else [])],
        "rows": rows, "notes": notes,
        "plot": {"x": "model", "group_by": "implementation", "series": ["peak RSS MiB"],
                 "ylabel": "MiB"}}}


def main():
    parser = argparse.ArgumentParser(description="One memory measurement (run by run.py).")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--library", choices=LIBRARIES, default="kerasllm")
    parser.add_argument("--size", default="bert_base")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--masked", type=int, default=20)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--overrides", default="{}", help="JSON dict of BertConfig overrides")
    child(parser.parse_args())


if __name__ == "__main__":
    main()
