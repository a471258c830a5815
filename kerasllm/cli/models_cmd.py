"""``kerasllm models``: every shipped preset with its size, as an aligned table."""
import click

from kerasllm.param_count import count_parameters
from kerasllm.presets import list_presets, load_preset

HEADER = ("NAME", "FAMILY", "LAYERS", "HIDDEN/UNITS", "HEADS", "PARAMS", "DESCRIPTION")


def preset_row(preset):
    """One table row: name, family, layers, hidden / units, heads, parameters, description."""
    model = preset.model
    if preset.family == "bert":
        hidden, heads = model.hidden_dim, model.num_heads
    else:
        hidden, heads = model.units, "-"
    params = count_parameters(model)
    return (preset.name, preset.family, str(model.num_layers), str(hidden), str(heads),
            f"{params / 1e6:,.1f}M ({params:,})", preset.description)


def format_table(rows):
    """Left-aligned columns separated by two spaces; numbers right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = {2, 3, 4, 5}
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if i in numeric and row is not rows[0] else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


@click.command("models")
def models():
    """List every preset: family, shape, parameter count and description."""
    presets = [load_preset(name) for name in list_presets()]
    presets.sort(key=lambda p: (p.family, count_parameters(p.model)))  # families, small first
    rows = [HEADER] + [preset_row(preset) for preset in presets]
    click.echo(format_table(rows))
