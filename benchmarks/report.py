"""Results files: ``results/<machine>.json`` (all numbers) and ``<machine>.md`` (tables).

A benchmark returns a *section*::

    {"title": str, "columns": [str, ...], "rows": [{column: value}], "notes": [str],
     "targets": [{"name", "value", "target", "met"}], "plot": {...} (see plots.py)}

Cell values are numbers, strings, or a Stat as JSON ({"median", "min", "max", "n"}),
shown as ``median (min–max)``. Sections from earlier runs on the same machine
are kept, so ``--only NAME`` refreshes one benchmark without losing the others.
"""
import json
import os


def is_stat(value):
    return isinstance(value, dict) and {"median", "min", "max"} <= set(value)


def fmt_number(x):
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if not isinstance(x, float):
        return str(x)
    magnitude = abs(x)
    if magnitude >= 1000:
        return f"{x:,.0f}"
    if magnitude >= 100:
        return f"{x:.0f}"
    if magnitude >= 10:
        return f"{x:.1f}"
    if magnitude >= 0.1 or magnitude == 0:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt_cell(value):
    if value is None:
        return "–"
    if is_stat(value):
        return f"{fmt_number(value['median'])} ({fmt_number(value['min'])}–{fmt_number(value['max'])})"
    return fmt_number(value)


def markdown_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(fmt_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def load_results(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def stamp_sections(results):
    """Records in each section the run that measured it, so a merged file keeps provenance."""
    load = results["machine"].get("load_average_at_start")
    for section in results["benchmarks"].values():
        section.setdefault("run", {"command": results["command"], "started": results["started"],
                                   "finished": results["finished"], "load_average_at_start": load})
    return results


def merge_results(previous, current, order=()):
    """``current`` wins; benchmarks only ``previous`` has are kept, each with its own run.

    Sections are listed in ``order`` (benchmark names; a section that a benchmark adds
    under another name, such as ``pretrain_ratio``, stays after the one before it).
    """
    merged = dict(current)
    sections = dict((previous or {}).get("benchmarks", {}))
    sections.update(current.get("benchmarks", {}))
    rank, last = {}, -1
    for name in sections:
        last = order.index(name) if name in order else last
        rank[name] = last
    merged["benchmarks"] = dict(sorted(sections.items(), key=lambda item: rank[item[0]]))
    return merged


def write_json(path, results):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=2, sort_keys=False, default=_jsonable)
        f.write("\n")
    os.replace(tmp, path)  # a crash never leaves a half-written results file


def _jsonable(value):
    if hasattr(value, "to_json"):
        return value.to_json()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to the results JSON")


def _machine_lines(machine):
    gpu = ", ".join(machine.get("gpus") or []) or "none"
    load = machine.get("load_average_at_start")
    load_text = ", ".join(f"{x:.2f}" for x in load) if load else "n/a"
    onednn = {True: "on", False: "off"}.get(machine.get("tensorflow_onednn"), "not recorded")
    isa = "".join(f", {flag}" for flag in machine.get("cpu_isa") or [])  # older files lack it
    return [
        f"- CPU: {machine['cpu_model']} ({machine['cpu_cores']} cores{isa}); GPU: {gpu}",
        f"- TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, "
        f"keras-hub {machine['keras_hub']}, Python {machine['python']}; TensorFlow oneDNN kernels: {onednn}",
        f"- load average at the start of the latest run (1/5/15 min): {load_text}",
    ]


def render_markdown(results, plot_files=None):
    plot_files = plot_files or {}
    machine = results["machine"]
    lines = [f"# kerasllm benchmarks — {machine['label']}", ""]
    lines += _machine_lines(machine)
    everything = "python benchmarks/run.py" + ("" if results["mode"] == "full"
                                                else f" --{results['mode']}")
    lines += [f"- mode: {results['mode']}; reproduce all: `{everything}`; each section says "
              "which run measured it", "",
              "Figures are `median (min–max)` over repeated runs.", ""]
    for name, section in results["benchmarks"].items():
        lines += [f"## {section.get('title', name)}", ""]
        run = section.get("run")
        if run:
            load = ", ".join(f"{x:.2f}" for x in run["load_average_at_start"] or []) or "n/a"
            lines += [f"Measured {run['started']} → {run['finished']} UTC by `{run['command']}` "
                      f"(load average at its start: {load}).", ""]
        if section.get("error"):
            lines += [f"**Not measured:** {section['error']}", ""]
            continue
        if section.get("rows"):
            lines += [markdown_table(section["columns"], section["rows"]), ""]
        if section.get("text"):  # a table another script printed, kept as printed
            text = section["text"]
            is_markdown = text.lstrip().startswith("|")
            lines += [text if is_markdown else "```\n" + text + "\n```", ""]
        for target in section.get("targets", []):
            mark = "met" if target["met"] else "**not met**"
            lines.append(f"- target {target['name']}: {fmt_cell(target['value'])} "
                         f"(target {target['target']}) — {mark}")
        for note in section.get("notes", []):
            lines.append(f"- {note}")
        if name in plot_files:
            lines += ["", f"![{name}]({plot_files[name]})"]
        lines.append("")
    return "\n".join(lines)


def write_markdown(path, results, plot_files=None):
    with open(path, "w") as f:
        f.write(render_markdown(results, plot_files))


def target(name, value, target_text, met):
    """One checked target line for a section."""
    return {"name": name, "value": value, "target": target_text, "met": bool(met)}
