"""PNG bar charts of the results (matplotlib, Agg — no display needed).

A section that wants a chart carries ``"plot": {"x": column, "series": [columns],
"ylabel": str, "log": bool, "group_by": column, "hline": y}``: one group of
bars per distinct value of column ``x``, one bar per series column (or, with
``group_by``, per distinct value of that column, plotting ``series[0]``),
whiskers from the min to the max run, an optional dashed target line.
"""
import os
import textwrap

from report import is_stat


def _value_and_spread(cell):
    if is_stat(cell):
        return cell["median"], cell["median"] - cell["min"], cell["max"] - cell["median"]
    if isinstance(cell, (int, float)):
        return float(cell), 0.0, 0.0
    return None, 0.0, 0.0


def _bars(section, spec):
    """{series: {group: cell}} and the ordered group labels of a section's rows."""
    groups, bars = [], {}
    for row in section["rows"]:
        if row.get("_no_plot"):  # e.g. a ratio row in a table of throughputs
            continue
        group = str(row.get(spec["x"], ""))
        if group not in groups:
            groups.append(group)
        if spec.get("group_by"):  # long format: one row per (group, series)
            bars.setdefault(str(row.get(spec["group_by"])), {})[group] = row.get(spec["series"][0])
        else:                     # wide format: one column per series
            for column in spec["series"]:
                bars.setdefault(column, {})[group] = row.get(column)
    return groups, bars


def plot_section(name, section, out_dir, label):
    """Writes ``<label>_<name>.png`` in ``out_dir``; returns its file name or None."""
    spec = section.get("plot")
    if not spec or not section.get("rows") or section.get("error"):
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, bars = _bars(section, spec)
    width = 0.8 / max(1, len(bars))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.4 * len(groups) + 2.5), 3.6))
    for i, (series, cells) in enumerate(bars.items()):
        xs, heights, lows, highs = [], [], [], []
        for j, group in enumerate(groups):
            value, low, high = _value_and_spread(cells.get(group))
            if value is None:
                continue
            xs.append(j + (i - (len(bars) - 1) / 2) * width)
            heights.append(value)
            lows.append(low)
            highs.append(high)
        ax.bar(xs, heights, width, yerr=[lows, highs], capsize=3, label=series)
    if spec.get("hline") is not None:
        ax.axhline(spec["hline"], color="grey", linestyle="--", linewidth=1, label="target")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([textwrap.fill(g, 24) for g in groups], fontsize=7)
    ax.set_ylabel(spec.get("ylabel", ""))
    if spec.get("log"):
        ax.set_yscale("log")
    ax.set_title(section.get("title", name), fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    filename = f"{label}_{name}.png"
    fig.savefig(os.path.join(out_dir, filename), dpi=110)
    plt.close(fig)
    return filename


def plot_all(results, out_dir, prefix):
    """One PNG per section that asks for one, named ``<prefix>_<section>.png``."""
    files = {}
    for name, section in results["benchmarks"].items():
        filename = plot_section(name, section, out_dir, prefix)
        if filename:
            files[name] = filename
    return files
