"""Run kerasllm's benchmarks and write results/<machine>.{json,md,*.png}.

    python benchmarks/run.py                # full: the README's figures (about 45 min, 2 cores)
    python benchmarks/run.py --quick        # small sizes, a few minutes
    python benchmarks/run.py --only pretrain mfu
    python benchmarks/run.py --tiny --output-dir /tmp/b   # smoke test, seconds

Benchmarks run in the order listed in BENCHMARKS; each one that fails is
recorded with its error and the others still run. Earlier sections of the same
machine's results file are kept unless re-run.
"""
import argparse
import importlib
import shlex
import sys
import time
import traceback

import common  # noqa: F401  (environment + sys.path set-up first)
import settings as modes
from common import log, machine_info
from report import load_results, merge_results, stamp_sections, write_json, write_markdown

# name -> (module, what it measures); modules expose run(settings, context) -> {name: section}
BENCHMARKS = {
    "matmul_peak": ("mfu:run_peak", "tf.matmul peak FLOP/s (MFU denominator)"),
    "pretrain": ("pretrain_throughput:run", "MLM+NSP training steps vs keras-hub"),
    "finetune": ("finetune_throughput:run", "BBC titles fine-tuning vs keras-hub"),
    "mfu": ("mfu:run", "model FLOPs utilisation of training"),
    "pipeline": ("input_pipeline:run", "streaming pretraining input vs trainer"),
    "lstm": ("lstm_throughput:run", "LSTMLanguageModel vs keras LSTM stack"),
    "serving": ("serving:run", "exported SavedModel latency"),
    "memory": ("memory:run", "peak RSS of BERT training"),
    "search": ("semantic_search:run", "all-MiniLM-L6-v2 index docs/s, query p50/p99"),
    "finetune_minilm": ("finetune_minilm:run", "kerasllm finetune on MiniLM vs transformers"),
    "pretrain_torch": ("pretrain_torch:run", "pretraining steps vs transformers (PyTorch)"),
    "finetune_torch": ("finetune_torch:run", "BBC titles fine-tuning vs transformers (PyTorch)"),
    "embed_torch": ("embed_torch:run", "sentence-embedding inference vs transformers (PyTorch)"),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    size.add_argument("--tiny", action="store_true", help="smoke-test sizes (numbers meaningless)")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="run only these (space or comma separated): " + ", ".join(BENCHMARKS))
    parser.add_argument("--output-dir", default=None,
                        help="where results go (default: benchmarks/results)")
    args = parser.parse_args(argv)
    names = [n for item in (args.only or list(BENCHMARKS)) for n in item.split(",") if n]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}.")
    args.names = [n for n in BENCHMARKS if n in names]  # canonical order
    return args


def _call(target, cfg, context):
    module_name, function = target.split(":")
    return getattr(importlib.import_module(module_name), function)(cfg, context)


def run_benchmarks(names, cfg):
    sections, context = {}, {}
    for name in names:
        target, what = BENCHMARKS[name]
        log(f"== {name}: {what}")
        start = time.perf_counter()
        try:
            produced = _call(target, cfg, context)
        except Exception as exc:  # record it, keep going: one broken benchmark hides no others
            traceback.print_exc()
            message = f"{type(exc).__name__}: {exc}".splitlines()[0][:400]
            produced = {name: {"title": f"{name}: {what}", "error": message}}
        for section in produced.values():
            section["seconds"] = round(time.perf_counter() - start, 1)
        sections.update(produced)
        log(f"== {name} done in {time.perf_counter() - start:.0f} s")
    return sections


def main(argv=None):
    import os
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = "quick" if args.quick else "tiny" if args.tiny else "full"
    cfg = modes.MODES[mode]()
    machine = machine_info()
    if machine["gpus"]:  # GPU: train in bf16, measured against the bf16 matmul peak
        import keras
        import tensorflow as tf
        for gpu in tf.config.list_physical_devices("GPU"):  # leave PyTorch room (sections 10-12)
            tf.config.experimental.set_memory_growth(gpu, True)
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    out_dir = args.output_dir or os.path.join(common.BENCH_DIR, "results")
    os.makedirs(out_dir, exist_ok=True)
    log(f"machine {machine['label']}, mode {mode}, benchmarks {' '.join(args.names)}")
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    sections = run_benchmarks(args.names, cfg)
    command = "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    results = {"machine": machine, "mode": mode, "command": command.strip(),
               "started": started, "finished": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
               "benchmarks": sections}
    suffix = "" if mode == "full" else f"-{mode}"  # quick figures never overwrite full ones
    base = os.path.join(out_dir, machine["label"] + suffix)
    results = merge_results(load_results(base + ".json"), stamp_sections(results),
                            order=list(BENCHMARKS))
    write_json(base + ".json", results)
    from plots import plot_all
    plot_files = plot_all(results, out_dir, os.path.basename(base))
    write_markdown(base + ".md", results, plot_files)
    log(f"wrote {base}.json, {base}.md and {len(plot_files)} plots")
    print(open(base + ".md").read())
    failed = [n for n, s in sections.items() if s.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
