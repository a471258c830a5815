"""Errors that the CLI turns into one clear line instead of a traceback.

Raise ``KerasLLMError`` (or a subclass) for anything a user can fix: a bad
config key, a missing file, a malformed row. The message must say what was
received and what to do, and name the file / line / key when there is one.
"""


class KerasLLMError(Exception):
    """A user-fixable problem; ``str(err)`` is the one line the CLI prints."""


class ConfigError(KerasLLMError):
    """A preset or ``--config`` YAML file has a bad key or value."""


class DataError(KerasLLMError):
    """Input data (corpus, CSV, vocabulary, checkpoint) is unusable."""


def location(path, line=None, key=None):
    """Format ``file:line`` / ``file: key 'x'`` prefixes consistently."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if key is not None:
        text += f": key '{key}'"
    return text
