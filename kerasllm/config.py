"""YAML → typed dataclass loading with one-line, file-and-key error messages.

One implementation serves the presets in ``configs/`` and the training
``--config`` files: ``read_yaml`` parses (reporting ``file:line`` on syntax
errors) and ``to_dataclass`` checks keys, types and ranges.
"""
import dataclasses
import typing
from pathlib import Path

import yaml

from kerasllm.errors import ConfigError, location


def read_yaml(path):
    """Parse a YAML mapping; syntax errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass an existing YAML file.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(f"{location(path, line)}: invalid YAML ({err.problem}).") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read YAML ({err}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys to values at the top level, "
            f"received {type(data).__name__}."
        )
    return data


def _check_type(value, annotation, source, key):
    """Return ``value`` coerced to ``annotation`` or raise ConfigError."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union:  # Optional[X]
        if value is None and type(None) in args:
            return None
        annotation = next(a for a in args if a is not type(None))
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise ConfigError(
        f"{location(source, key=key)}: expected {annotation.__name__}, "
        f"received {value!r}."
    )


def to_dataclass(cls, data, source, prefix=""):
    """Build dataclass ``cls`` from mapping ``data``, rejecting unknown keys.

    ``source`` names where the data came from (a file path or
    ``"overrides"``); ``prefix`` is prepended to key names in errors
    (e.g. ``"model."``). A class attribute ``RENAMED`` maps old key names to fields. After
    construction, ``cls.validate(source, prefix)``
    runs if the dataclass defines it.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{location(source, key=prefix.rstrip('.'))}: expected a mapping, "
            f"received {data!r}."
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    renamed = getattr(cls, "RENAMED", {})  # {old key: field}, read as the field
    for key, value in data.items():
        key = renamed.get(key, key)
        if key not in fields:
            raise ConfigError(
                f"{location(source, key=prefix + str(key))}: unknown key; "
                f"expected one of: {', '.join(sorted(fields))}."
            )
        values[key] = _check_type(value, hints[key], source, prefix + key)
    obj = cls(**values)
    validate = getattr(obj, "validate", None)
    if validate is not None:
        validate(source, prefix)
    return obj


def require(condition, source, key, message):
    """Raise ``ConfigError`` naming ``source`` and ``key`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"{location(source, key=key)}: {message}")
