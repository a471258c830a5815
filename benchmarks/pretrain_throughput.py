"""Benchmark 1 — pretraining throughput, kerasllm against keras-hub.

For each BERT size: build every contender of ``bert_models.CONTENDERS`` with XLA
off and on, time a short probe of each, keep the faster setting, then time
``repeats`` × ``steps`` training steps round-robin (contender A, B, C, A, B, C…)
in this one process on the same fixed synthetic batches.

keras-hub's BertMaskedLM has no NSP head, so two ratios are reported:
kerasllm's MLM+NSP BertPretrainer (which does strictly more work: pooler + NSP
head + its loss) against keras-hub's MLM-only model, and the like-for-like
kerasllm BertMaskedLM against keras-hub BertMaskedLM.
"""
import gc
import traceback

from bert_models import (CONTENDERS, bert_config, non_padding_tokens_per_batch,
                         pretraining_dataset, synthetic_pretraining_arrays)
from common import Stat, alternate, best_setting, log, xla_text
from report import target

KERASLLM_FULL = "kerasllm BertPretrainer (MLM+NSP)"
KERASLLM_MLM = "kerasllm BertMaskedLM (MLM)"
KERASHUB_MLM = "keras-hub BertMaskedLM (MLM)"


def measure_size(size, settings, context, contenders=None):
    """Step-time Stats of each contender for one preset; errors are recorded, not raised."""
    config = bert_config(size, **settings.bert_overrides)
    batch = settings.batch_for(size)
    arrays = synthetic_pretraining_arrays(config, batch, settings.seq_length, settings.num_masked)
    datasets = {flag: pretraining_dataset(arrays, flag) for flag in (True, False)}
    timers, probes, errors = {}, {}, {}
    chosen = context.setdefault("xla_choice", {})  # contender -> XLA setting of a smaller size
    for name in contenders or CONTENDERS:
        builder, with_nsp = CONTENDERS[name]
        carry = size in settings.xla_carry_over_sizes and name in chosen
        options = (chosen[name],) if carry else settings.jit_options
        log(f"pretrain {size}: probing {name} (XLA {options}{', carried over' if carry else ''})")
        try:
            timers[name], probes[name] = best_setting(
                lambda jit: builder(config, jit), datasets[with_nsp], settings, jit_options=options)
            chosen[name] = timers[name].jit_compile
        except Exception as exc:  # a missing or broken contender must not sink the others
            errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            traceback.print_exc()
    log(f"pretrain {size}: {settings.repeats} alternating repeats × {settings.steps} steps")
    stats = alternate(timers, settings.repeats, settings.steps)
    for name, step in stats.items():
        log(f"  {name}: {batch / step.median:.1f} sequences/s (median of {step.n})")
    result = {
        "size": size, "config": config, "batch_size": batch,
        "seq_length": settings.seq_length, "num_masked": settings.num_masked,
        "tokens_per_batch": non_padding_tokens_per_batch(arrays),
        "step_times": stats, "paired": {n: t.step_times for n, t in timers.items()},
        "xla": {n: t.jit_compile for n, t in timers.items()}, "probes": probes, "errors": errors,
    }
    del timers  # the models: free their memory before the next (bigger) size
    gc.collect()
    return result


def measured(context, size, settings, contenders=None):
    """``measure_size`` once per run: later benchmarks (MFU, pipeline) reuse it."""
    cache = context.setdefault("pretrain", {})
    wanted = set(contenders or CONTENDERS)
    have = cache.get(size)
    if have is None or not wanted <= set(have["step_times"]) | set(have["errors"]):
        cache[size] = measure_size(size, settings, context, contenders)
    return cache[size]


def paired_ratio(result, numerator, denominator):
    """Throughput ratio per alternating repeat (time of denominator / time of numerator)."""
    a, b = result["paired"].get(numerator), result["paired"].get(denominator)
    if not a or not b:
        return None
    return Stat.of([tb / ta for ta, tb in zip(a, b)]).to_json()


def run(settings, context):
    rows, ratios, notes = [], [], []
    for size in settings.bert_sizes:
        result = measured(context, size, settings)
        for name, error in result["errors"].items():
            notes.append(f"{size} / {name} not measured: {error}")
        for name, step in result["step_times"].items():
            rows.append({
                "model": size, "implementation": name, "batch": result["batch_size"],
                "XLA": xla_text(result["xla"][name], result["probes"][name]),
                "ms/step": step.scaled(1e3).to_json(),
                "sequences/s": step.inverse(result["batch_size"]).to_json(),
                "non-padding tokens/s": step.inverse(result["tokens_per_batch"]).to_json(),
            })
        ratios.append({"model": size,
                       "MLM+NSP / keras-hub MLM": paired_ratio(result, KERASLLM_FULL, KERASHUB_MLM),
                       "MLM / keras-hub MLM": paired_ratio(result, KERASLLM_MLM, KERASHUB_MLM)})
    carried = [size for size in settings.bert_sizes if size in settings.xla_carry_over_sizes]
    targets = [target(f"{r['model']} MLM+NSP / keras-hub", r["MLM+NSP / keras-hub MLM"],
                      "≥ 1.1×", r["MLM+NSP / keras-hub MLM"]["median"] >= 1.1)
               for r in ratios if r["MLM+NSP / keras-hub MLM"]]
    notes += [
        f"Sequence length {settings.seq_length}, {settings.num_masked} masked slots per "
        "sequence, 90 % of sequences full length; identical fixed-shape synthetic "
        "batches for every contender; AdamW 1e-4, no metrics; GELU (tanh approximation) "
        "in both, as keras-hub hard-codes it.",
        "XLA: each contender is probed with jit_compile off and on and runs with the faster"
        + (f"; {', '.join(carried)} reuse the setting that won on the previous size "
           "(a probe there costs minutes of compilation on 2 cores)." if carried else "."),
    ]
    main = {"title": "1. Pretraining throughput vs keras-hub",
            "columns": ["model", "implementation", "batch", "XLA", "ms/step",
                        "sequences/s", "non-padding tokens/s"],
            "rows": rows, "notes": notes,
            "plot": {"x": "model", "group_by": "implementation", "series": ["sequences/s"],
                     "ylabel": "sequences/s", "log": True}}
    ratio = {"title": "1b. Pretraining speed ratio kerasllm / keras-hub (same batches, alternating runs)",
             "columns": ["model", "MLM+NSP / keras-hub MLM", "MLM / keras-hub MLM"],
             "rows": ratios, "targets": targets,
             "notes": ["Per alternating repeat: keras-hub step time / kerasllm step time.",
                       "keras-hub BertMaskedLM has no NSP head, so kerasllm's MLM+NSP "
                       "BertPretrainer does strictly more work (pooler, NSP head and loss) "
                       "than the model it is compared with; the like-for-like figure is "
                       "kerasllm BertMaskedLM against keras-hub BertMaskedLM."],
             "plot": {"x": "model", "series": ["MLM+NSP / keras-hub MLM", "MLM / keras-hub MLM"],
                      "ylabel": "speed-up ×", "hline": 1.1}}
    return {"pretrain": main, "pretrain_ratio": ratio}
