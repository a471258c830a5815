"""One job option as a dataclass field: its default, help text and constraints, and the check
of a value against them.

``option(...)`` declares a field; ``kerasllm.cli.job_flags`` turns each field into its click
option and ``JobOptions.validate`` (``kerasllm.training.options``) checks Python callers'
values with ``coerce``, whose messages read as click's own (``Invalid value for '--steps':
0 is not in the range x>=1.``), so a mistake reads the same from the CLI, a ``--config``
file and Python. No TensorFlow, no click here.
"""
import dataclasses
import os
import typing


class OptionValueError(ValueError):
    """A value an option refuses; ``str(err)`` says what was received (no option name)."""


def option(default=None, help="", *, at_least=None, at_most=None, above=None, below=None,
           choices=None, required=False, multiple=False, path=None, is_flag=False,
           recipe=None):
    """A job option field.

    Args:
        default: the value when the option is not given (None: unset, the job decides).
        help: the ``--help`` text; a ``[default: ...]`` in it replaces the shown default.
        at_least / at_most: inclusive bounds; above / below: exclusive bounds (numbers).
        choices: the allowed values (strings).
        required: the option must be given.
        multiple: a tuple of strings (a flag given several times, a YAML list).
        path: ``"file"``, ``"dir"`` or ``"any"``: a path of that kind (checked by the CLI).
        is_flag: a bool given as ``--name`` alone (default False), not ``--name/--no-name``.
        recipe: the preset recipe attribute that fills this option when it is unset.
    """
    metadata = dict(help=help, at_least=at_least, at_most=at_most, above=above, below=below,
                    choices=tuple(choices) if choices else None, required=required,
                    multiple=multiple, path=path, is_flag=is_flag, recipe=recipe)
    if multiple:
        return dataclasses.field(default=tuple(default or ()), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flag(field):
    """``--seq-length`` for the field ``seq_length``."""
    return "--" + field.name.replace("_", "-")


def kind(cls, field):
    """The field's value type (int, float, str, bool or tuple), Optional unwrapped."""
    annotation = typing.get_type_hints(cls)[field.name]
    if typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return typing.get_origin(annotation) or annotation


def bounds(field):
    """``(min, max, min_open, max_open)`` of a numeric field."""
    m = field.metadata
    low = m["above"] if m["above"] is not None else m["at_least"]
    high = m["below"] if m["below"] is not None else m["at_most"]
    return low, high, m["above"] is not None, m["below"] is not None


def describe_range(field):
    """``x>=1``, ``0<x<1``: how click writes a range."""
    low, high, low_open, high_open = bounds(field)
    if low is None:
        return f"x{'<' if high_open else '<='}{high}"
    if high is None:
        return f"x{'>' if low_open else '>='}{low}"
    return f"{low}{'<' if low_open else '<='}x{'<' if high_open else '<='}{high}"


def _number(value, number_type):
    """An int (or, for float, any real number); YAML leaves '1e-3' a string, so parse those.
    A float for an int is refused, not truncated."""
    if isinstance(value, str):
        try:
            value = number_type(value.strip())
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (number_type is int and not isinstance(value, int)):
        return None
    return number_type(value)


def _in_range(field, value):
    low, high, low_open, high_open = bounds(field)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise OptionValueError(f"{value} is not in the range {describe_range(field)}")
    return value


def _scalar(field, value_type, value):
    if value_type in (int, float):
        number = _number(value, value_type)
        if number is None:
            raise OptionValueError(f"expected {'a whole number' if value_type is int else 'a number'}"
                                   f", received {value!r}")
        return _in_range(field, number)
    if value_type is bool:
        words = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}
        if isinstance(value, str) and value.strip().lower() in words:
            return words[value.strip().lower()]
        if not isinstance(value, bool):
            raise OptionValueError(f"expected true or false, received {value!r}")
        return value
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # as click reads `--preset 5`
    if not isinstance(value, str):
        raise OptionValueError(f"expected a single value, received {value!r}")
    choices = field.metadata["choices"]
    if choices and value not in choices:
        raise OptionValueError(f"{value!r} is not one of {', '.join(map(repr, choices))}")
    return value


def coerce(cls, field, value):
    """``value`` as the field's type (a tuple for ``multiple``; numbers parsed from strings),
    or OptionValueError saying what was received."""
    if value is None:
        return () if field.metadata["multiple"] else None
    if field.metadata["multiple"]:
        items = [value] if isinstance(value, (str, os.PathLike)) else value
        if not isinstance(items, (list, tuple)):
            raise OptionValueError(f"expected text or a list of texts, received {value!r}")
        return tuple(_scalar(field, str, item) for item in items)
    return _scalar(field, kind(cls, field), value)
