"""Summary, goal checks and PNG of the learning-parity benchmark (``learning_parity.py``).

A goal "A is within one standard error of B, or above it" holds when
``mean(A) >= mean(B) - se(B)``, over the final held-out MLM accuracy of the
seeds (se = sample standard deviation / sqrt(seeds)).
"""
import json
import math
import statistics

# What the two implementations do differently (read from both sources; keras-hub 0.32).
DIFFERENCES = [
    "MLM head transform activation: keras-hub's BertMaskedLM hard-codes exact GELU; kerasllm's head "
    "uses the encoder's activation (tanh-approximate GELU here, as keras-hub's backbone).",
    "MLM head LayerNorm epsilon: keras-hub 1e-5 (MaskedLMHead default), kerasllm 1e-12 (the encoder's).",
    "Dropout masks: keras-hub uses keras.layers.Dropout (TF stateless Philox); kerasllm its own "
    "counter-hash generator (kerasllm/layers/dropout.py). Same rate 0.1, same places (embeddings, "
    "attention probabilities, sublayer outputs).",
    "Initial weights: same distributions (truncated normal, stddev 0.02; zero biases; unit "
    "LayerNorm), different draws: keras.utils.set_random_seed(seed) is set before each build, but "
    "the layers are created in another order.",
    "kerasllm's BertMaskedLM runs the last encoder layer only at the masked positions (and [CLS]); "
    "the values are the same as running it everywhere.",
    "Loss / metric: both compiled with kerasllm's sparse_ce(masked=True) (mean over the real masked "
    "tokens) and weighted accuracy; keras-hub's own default would average over all P slots.",
]
NSP_THRESHOLD = 0.6  # "well above 0.5": mean held-out NSP accuracy must exceed this


def mean_se(values):
    values = [float(v) for v in values]
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return {"mean": statistics.fmean(values), "se": se, "n": len(values), "values": values}


def _by_impl(runs):
    out = {}
    for run in sorted(runs, key=lambda r: (r["impl"], r["seed"])):
        out.setdefault(run["impl"], []).append(run)
    return out


def finished(runs):
    """The runs that reached their last step (a stopped run keeps only its partial curve)."""
    return [r for r in runs if r.get("finished", True)]


def summarise(runs):
    """Per implementation: final held-out MLM accuracy / loss (and NSP accuracy) mean ± se,
    over the finished runs."""
    table = {}
    for impl, group in _by_impl(finished(runs)).items():
        row = {"seeds": [r["seed"] for r in group],
               "masked_lm_accuracy": mean_se([r["final"]["masked_lm_accuracy"] for r in group]),
               "masked_lm_loss": mean_se([r["final"]["masked_lm_loss"] for r in group]),
               "wall_s": mean_se([r["wall_s"] for r in group])}
        if "nsp_accuracy" in group[0]["final"]:
            row["nsp_accuracy"] = mean_se([r["final"]["nsp_accuracy"] for r in group])
        table[impl] = row
    return table


def _within(table, candidate, reference, name):
    if candidate not in table or reference not in table:
        return None
    a, b = table[candidate]["masked_lm_accuracy"], table[reference]["masked_lm_accuracy"]
    margin = b["se"] if math.isfinite(b["se"]) else 0.0
    return {"goal": name, "candidate": candidate, "reference": reference,
            "difference": a["mean"] - b["mean"], "allowed": -margin,
            "met": a["mean"] >= b["mean"] - margin}


def goals(table, nsp_majority=None):
    """The goal checks; ``nsp_majority``: the held-out rate of the commoner NSP label (the
    accuracy of always guessing it), reported beside the NSP check."""
    checks = [_within(table, "kerasllm-mlm", "keras-hub-mlm",
                      "kerasllm MLM accuracy within 1 s.e. of keras-hub's, or above")]
    for joint in [impl for impl in table if impl.startswith("kerasllm-mlm+nsp")]:  # each weight
        checks.append(_within(table, joint, "kerasllm-mlm",
                              f"{joint}'s MLM accuracy within 1 s.e. of MLM alone, or above"))
        control = joint.replace("kerasllm-mlm+nsp", "kerasllm-mlm")  # its loss scale, no NSP
        if control != "kerasllm-mlm":
            checks.append(_within(table, joint, control,
                                  f"{joint}'s MLM accuracy within 1 s.e. of {control}, or above"))
        nsp = table[joint]["nsp_accuracy"]["mean"]
        checks.append({"goal": f"{joint}'s held-out NSP accuracy > {NSP_THRESHOLD}", "value": nsp,
                       "majority_class": nsp_majority, "met": nsp > NSP_THRESHOLD})
    return [c for c in checks if c]


def _majority(held_out):
    rate = held_out.get("nsp_random_next_fraction")
    return None if rate is None else max(rate, 1.0 - rate)


def plot(runs, path, title, nsp_majority=None):
    """Held-out MLM accuracy (mean ± se over seeds, thin per-seed lines) and loss against step;
    NSP accuracy of the MLM+NSP runs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = [("masked_lm_accuracy", "held-out MLM accuracy"), ("masked_lm_loss", "held-out MLM loss"),
              ("nsp_accuracy", "held-out NSP accuracy")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for (key, label), ax in zip(panels, axes):
        for i, (impl, group) in enumerate(_by_impl(runs).items()):
            if key not in group[0]["final"]:
                continue
            color = f"C{i}"
            steps = [p["step"] for p in group[0]["curve"]]
            curves = np.array([[p[key] for p in r["curve"]] for r in group if len(r["curve"]) == len(steps)])
            for curve in curves:
                ax.plot(steps, curve, color=color, alpha=0.3, linewidth=0.8)
            mean = curves.mean(0)
            se = curves.std(0, ddof=1) / np.sqrt(len(curves)) if len(curves) > 1 else 0 * mean
            ax.plot(steps, mean, color=color, linewidth=2, label=f"{impl} ({len(curves)} seeds)")
            ax.fill_between(steps, mean - se, mean + se, color=color, alpha=0.2)
        if key == "nsp_accuracy":
            ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="chance")
            if nsp_majority:
                ax.axhline(nsp_majority, color="grey", linestyle=":", linewidth=1,
                           label=f"always the commoner label ({nsp_majority:.3f})")
        ax.set_xlabel("training step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(result, runs, out):
    """The JSON (settings, machine, every run and its curve, the summary and goals) and the PNG."""
    import time

    table = summarise(runs)
    result = dict(result, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), runs=runs,
                  summary=table, goals=goals(table, _majority(result["held_out"])))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    s = result["settings"]
    plot(finished(runs), out.with_suffix(".png"),
         f"{s['preset']} on BBC News: batch {s['batch_size']} x seq {s['seq_length']}, "
         f"{s['steps']} steps, AdamW peak lr {s['learning_rate']:g}, warmup {s['warmup_steps']}; "
         f"held-out: {result['held_out']['examples']} BBC test pairs", _majority(result["held_out"]))
    return result


def markdown(result):
    """The README table: final held-out MLM accuracy / loss (and NSP accuracy) per implementation."""
    def cell(stat, digits=3):
        se = f" ± {stat['se']:.{digits}f}" if math.isfinite(stat["se"]) else ""
        return f"{stat['mean']:.{digits}f}{se}"

    lines = ["| implementation | seeds | held-out MLM accuracy | held-out MLM loss | held-out NSP accuracy | wall s / run |",
             "|---|---|---|---|---|---|"]
    for impl, row in result["summary"].items():
        nsp = cell(row["nsp_accuracy"]) if "nsp_accuracy" in row else "—"
        lines.append(f"| {impl} | {len(row['seeds'])} | {cell(row['masked_lm_accuracy'], 4)} | "
                     f"{cell(row['masked_lm_loss'])} | {nsp} | {row['wall_s']['mean']:.0f} |")
    lines.append("")
    for goal in result["goals"]:
        lines.append(f"- {goal['goal']}: **{'met' if goal['met'] else 'not met'}** "
                     f"({', '.join(f'{k} {v:.4f}' for k, v in goal.items() if isinstance(v, float))})")
    return "\n".join(lines)


def main(argv=None):
    """Print the README table of a results JSON; ``--rewrite`` first recomputes its summary,
    goals and PNG from its runs (e.g. after this module's checks change)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("json", type=Path)
    parser.add_argument("--rewrite", action="store_true")
    args = parser.parse_args(argv)
    result = json.loads(args.json.read_text())
    if args.rewrite:
        kept = {k: v for k, v in result.items() if k not in ("runs", "summary", "goals", "date")}
        result = write(kept, result["runs"], args.json)
    print(markdown(result))


if __name__ == "__main__":
    main()
