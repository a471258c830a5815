"""Benchmark 10 — pretraining step throughput, kerasllm against transformers on PyTorch.

Per BERT size, four contenders train on the same fixed synthetic batches
(``bert_models.synthetic_pretraining_arrays``: same tokens, padding and masked
positions; transformers gets them as (B, T) labels, -100 off the masked slots):

- kerasllm ``BertPretrainer`` (MLM+NSP) vs transformers ``BertForPreTraining``;
- kerasllm ``BertMaskedLM`` (MLM) vs transformers ``BertForMaskedLM``.

AdamW 1e-4, float32 (bfloat16 on a GPU on both sides), dropout 0.1. Each side at its
best setting on this machine: kerasllm probes XLA off / on (``common.best_setting``),
PyTorch probes eager / ``torch.compile`` (``torch_timing``), both with as many threads
as the process has cores. Then ``repeats`` × ``steps`` timed steps, alternating all four
in this one process. Sequences/s and MFU (``flops.bert_training_flops`` over the
``matmul_peak`` of this run: the same model FLOPs for both, i.e. the work the task
needs — transformers' heads also score the unmasked positions, which is not counted).
"""
import gc
import traceback

from bert_models import CONTENDERS, bert_config, pretraining_dataset, synthetic_pretraining_arrays
from common import alternate, best_setting, log, xla_text
from flops import bert_training_flops
from pretrain_throughput import KERASLLM_FULL, KERASLLM_MLM, paired_ratio
from report import target
from torch_models import TORCH_CONTENDERS, pretraining_batches
from torch_timing import TorchTimer, device, mode_text, torch_threads

TORCH_FULL = "transformers BertForPreTraining (MLM+NSP)"
TORCH_MLM = "transformers BertForMaskedLM (MLM)"
PAIRS = {"MLM+NSP kerasllm / transformers": (KERASLLM_FULL, TORCH_FULL),
         "MLM kerasllm / transformers": (KERASLLM_MLM, TORCH_MLM)}
FAST_SIZES = ("bert_tiny", "bert_mini", "bert_small")  # the issue asks ≥ 1.2× there, ≥ 1.0× elsewhere


def _probe(name, config, arrays, settings, options):
    """(timer of the faster setting, {setting: s/step}) for one contender."""
    if name in TORCH_CONTENDERS:
        builder, with_nsp = TORCH_CONTENDERS[name]
        return best_setting(lambda mode: builder(config, mode), pretraining_batches(arrays, with_nsp),
                            settings, jit_options=options, timer_class=TorchTimer)
    builder, with_nsp = CONTENDERS[name]
    return best_setting(lambda jit: builder(config, jit), pretraining_dataset(arrays, with_nsp),
                        settings, jit_options=options)


def measure_size(size, settings, context):
    """Alternating step times of the four contenders at one size; errors recorded, not raised."""
    config = bert_config(size, **settings.bert_overrides)
    batch = settings.batch_for(size)
    arrays = synthetic_pretraining_arrays(config, batch, settings.seq_length, settings.num_masked)
    chosen = context.setdefault("vs_torch_choice", {})  # contender -> setting won at a smaller size
    timers, probes, errors = {}, {}, {}
    for name in (KERASLLM_FULL, TORCH_FULL, KERASLLM_MLM, TORCH_MLM):
        default = settings.torch_modes if name in TORCH_CONTENDERS else settings.jit_options
        carry = size in settings.torch_carry_over_sizes and name in chosen
        options = (chosen[name],) if carry else default
        log(f"pretrain_torch {size}: probing {name} ({options}{', carried over' if carry else ''})")
        try:
            timers[name], probes[name] = _probe(name, config, arrays, settings, options)
            chosen[name] = timers[name].jit_compile
        except Exception as exc:  # one broken contender must not sink the others
            errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            traceback.print_exc()
    log(f"pretrain_torch {size}: {settings.torch_repeats} alternating repeats × {settings.torch_steps} steps")
    stats = alternate(timers, settings.torch_repeats, settings.torch_steps)
    result = {"size": size, "config": config, "batch_size": batch, "step_times": stats,
              "paired": {n: t.step_times for n, t in timers.items()},
              "setting": {n: (mode_text if n in TORCH_CONTENDERS else xla_text)(t.jit_compile, probes[n])
                          for n, t in timers.items()}, "errors": errors}
    del timers
    gc.collect()
    return result


def peak_flops(settings, context, sections):
    """The matmul peak of this run (measured now unless ``matmul_peak`` already ran)."""
    if "peak" not in context:
        from mfu import run_peak
        sections.update(run_peak(settings, context))
    return context["peak"]["flops"]


def run(settings, context):
    threads = torch_threads()
    sections, rows, ratios, targets, notes = {}, [], [], [], []
    peak = peak_flops(settings, context, sections)
    for size in settings.torch_sizes:
        result = measure_size(size, settings, context)
        notes += [f"{size} / {name} not measured: {error}" for name, error in result["errors"].items()]
        batch = result["batch_size"]
        for name, step in result["step_times"].items():
            flops = bert_training_flops(result["config"], batch, settings.seq_length,
                                        num_masked=settings.num_masked, nsp="MLM+NSP" in name)
            log(f"  {name}: {batch / step.median:.1f} sequences/s")
            rows.append({"model": size, "implementation": name, "batch": batch,
                         "setting": result["setting"][name], "ms/step": step.scaled(1e3).to_json(),
                         "sequences/s": step.inverse(batch).to_json(),
                         "MFU %": step.inverse(flops).scaled(100.0 / peak).to_json()})
        ratio_row = {"model": size}
        for label, (ours, theirs) in PAIRS.items():
            ratio_row[label] = paired_ratio(result, ours, theirs)
            if ratio_row[label]:
                goal = 1.2 if size in FAST_SIZES else 1.0
                targets.append(target(f"{size} {label}", ratio_row[label], f"≥ {goal}×",
                                      ratio_row[label]["median"] >= goal))
        ratios.append(ratio_row)
    carried = [size for size in settings.torch_sizes if size in settings.torch_carry_over_sizes]
    notes += [
        f"Batch × {settings.seq_length} tokens, {settings.num_masked} masked slots per sequence, "
        "identical synthetic batches (same tokens, padding, masked positions) on both sides; "
        "AdamW 1e-4, weight decay 0.01, epsilon 1e-7; dropout 0.1; GELU tanh approximation.",
        f"Threads: {threads} on both sides (torch.set_num_threads; TensorFlow's default intra-op "
        f"pool = the process's cores). PyTorch device: {device()}; bfloat16 autocast on a GPU only.",
        "Settings: kerasllm probes XLA off / on, PyTorch eager / torch.compile (inductor); each runs "
        "with its faster" + (f"; {', '.join(carried)} reuse the setting won on the size before."
                             if carried else "."),
        "MFU: the same model FLOPs for both (flops.py: the masked slots' MLM head); transformers' "
        "heads also score every unmasked position (B·T·V logits), arithmetic its API does and the task "
        "does not need — most of the step at the small sizes (README, section 10).",
        "GPU variant: written (device selection, bfloat16 autocast), not run.",
    ]
    sections["pretrain_torch"] = {
        "title": "10. Pretraining throughput vs transformers (PyTorch)",
        "columns": ["model", "implementation", "batch", "setting", "ms/step", "sequences/s", "MFU %"],
        "rows": rows, "notes": notes,
        "plot": {"x": "model", "group_by": "implementation", "series": ["sequences/s"],
                 "ylabel": "sequences/s", "log": True}}
    sections["pretrain_torch_ratio"] = {
        "title": "10b. Pretraining speed ratio kerasllm / transformers (same batches, alternating runs)",
        "columns": ["model", *PAIRS], "rows": ratios, "targets": targets,
        "notes": ["Per alternating repeat: transformers step time / kerasllm step time. Goal: ≥ 1.2× "
                  "for bert_tiny to bert_small, ≥ 1.0× elsewhere."],
        "plot": {"x": "model", "series": list(PAIRS), "ylabel": "speed-up ×", "hline": 1.2}}
    return sections


def main(argv=None):
    """The transformers contenders alone, in a process without TensorFlow: a check that
    sharing the process with TensorFlow (section 10) does not slow PyTorch down."""
    import argparse
    import sys

    import settings as modes
    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--size", default="bert_tiny")
    parser.add_argument("--mode", choices=("eager", "compile"), default="eager")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args(argv)
    cfg = modes.full()
    threads = torch_threads()
    config, batch = bert_config(args.size), cfg.batch_for(args.size)
    arrays = synthetic_pretraining_arrays(config, batch, cfg.seq_length, cfg.num_masked)
    for name, (builder, with_nsp) in TORCH_CONTENDERS.items():
        timer = TorchTimer(builder(config, args.mode), pretraining_batches(arrays, with_nsp))
        timer.warm_up(1)
        step = alternate({name: timer}, args.repeats, args.steps)[name]
        print(f"{name} {args.size} batch {batch} {args.mode}, {threads} threads: {step.median * 1e3:.0f} ms/step "
              f"({step.min * 1e3:.0f}–{step.max * 1e3:.0f}), {batch / step.median:.1f} sequences/s")
    assert "tensorflow" not in sys.modules, "TensorFlow was imported: the check is not TensorFlow-free"


if __name__ == "__main__":
    main()
