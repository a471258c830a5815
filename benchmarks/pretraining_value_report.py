"""Summary, goal check, table and PNG of the pretraining-value benchmark (``pretraining_value.py``).

Goal (issue 23): a pretrained budget of at most ``GOAL_MINUTES`` (measured wall time of the
pretraining run up to that checkpoint, start-up included) beats budget 0
(scratch, or the ``--init`` encoder fine-tuned directly) by at least
``GOAL_POINTS`` points of held-out accuracy, mean over the fine-tuning seeds.
"""
import json

from parity_report import mean_se

GOAL_MINUTES, GOAL_POINTS = 45, 2.0


def summarise(result):
    """Adds ``accuracy`` / ``macro_f1`` (mean ± se) and ``gain_points`` to each finished point, and
    ``goal`` / ``crossing`` to ``result``."""
    done = [p for p in result["ladder"] if len(p.get("test", [])) == len(result["settings"]["seeds"])]
    for point in done:
        point["accuracy"] = mean_se([t["accuracy"] for t in point["test"]])
        point["macro_f1"] = mean_se([t["macro_f1"] for t in point["test"]])
    base = next((p for p in done if p["steps"] == 0), None)
    if base is None:
        return result
    for point in done:
        point["gain_points"] = round(100 * (point["accuracy"]["mean"] - base["accuracy"]["mean"]), 2)
    in_budget = [p for p in done if p["steps"] and p["measured_minutes"] <= GOAL_MINUTES]
    best = max(in_budget, key=lambda p: p["gain_points"], default=None)
    result["goal"] = {"rule": f"pretrained (<= {GOAL_MINUTES} min) beats budget 0 by >= {GOAL_POINTS} "
                              f"points of held-out accuracy (mean of seeds)",
                      "best_steps": best and best["steps"], "best_gain_points": best and best["gain_points"],
                      "met": bool(best and best["gain_points"] >= GOAL_POINTS)}
    crossing = next((p for p in done if p["steps"] and p["gain_points"] > 0), None)
    result["crossing"] = crossing and {"steps": crossing["steps"],
                                       "minutes": crossing["measured_minutes"]}
    return result


def plot(result, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [p for p in result["ladder"] if "accuracy" in p]
    if not done:
        return
    minutes = [p["measured_minutes"] for p in done]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.errorbar(minutes, [p["accuracy"]["mean"] for p in done],
                yerr=[p["accuracy"]["se"] if len(p["test"]) > 1 else 0 for p in done],
                marker="o", capsize=3, label="pretrained, then fine-tuned")
    base = done[0] if done[0]["steps"] == 0 else None
    if base:
        ax.axhline(base["accuracy"]["mean"], color="grey", ls="--",
                   label="budget 0: " + ("scratch" if not base.get("run") else "--init run as is"))
    for p, m in zip(done, minutes):
        ax.annotate(f"{p['steps']} steps", (m, p["accuracy"]["mean"]), textcoords="offset points",
                    xytext=(4, -12), fontsize=7)
    machine = result["machine"]
    ax.set(xlabel=f"pretraining minutes ({machine['cpu_cores']} cores, {machine['cpu_model'][:30]})",
           ylabel="held-out accuracy (BBC test, mean ± se)",
           title=f"Pretraining value: {result['name']}, {result['date'][:10]}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(result, out):
    """Summarise, then write ``out``.json and ``out``.png; returns ``result``."""
    summarise(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    return result


def markdown(result):
    """The README table."""
    def cell(stat):
        return f"{stat['mean']:.3f} ± {stat['se']:.3f}" if stat["n"] > 1 else f"{stat['mean']:.3f}"

    lines = ["| pretraining | steps | tokens | held-out MLM acc. | fine-tune lr (dev) | accuracy | "
             "macro-F1 | vs budget 0 |", "|---|---|---|---|---|---|---|---|"]
    for p in result["ladder"]:
        if "accuracy" not in p:
            continue
        minutes = p["measured_minutes"]
        mlm = p.get("held_out_mlm", {}).get("masked_lm_accuracy")
        lines.append(f"| {minutes:g} min | {p['steps']:,} | {p['tokens']:,} | "
                     f"{'—' if mlm is None else format(mlm, '.3f')} | {p['learning_rate']:g} | "
                     f"{cell(p['accuracy'])} | {cell(p['macro_f1'])} | {p.get('gain_points', 0):+.1f} |")
    goal = result.get("goal")
    if goal:
        lines.append(f"\nGoal ({goal['rule']}): {'met' if goal['met'] else 'not met'} "
                     f"(best {goal['best_gain_points']:+.1f} points at {goal['best_steps']} steps).")
    return "\n".join(lines)
