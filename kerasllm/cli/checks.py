"""Checks the commands run before they import TensorFlow, so a typo costs < 1 s, not 10.

Each check raises ``KerasLLMError`` (one ``Error:`` line) naming the option
and the path. None of them imports TensorFlow: they read run configs, expand
globs and sniff the first bytes of files. The jobs and ``kerasllm.inference``
check again (the Python API has no CLI in front of it); these checks only
move the common mistakes ahead of the slow import.
"""
import os
from pathlib import Path

from kerasllm.errors import DataError, KerasLLMError

BERT_MAX_SEQ_LENGTH = 512  # the largest max_sequence_length of any BERT preset / checkpoint


def renamed_option(value, old_value, option, old_option, default):
    """The value of ``option`` given under its name or its old one (a hidden alias);
    both, disagreeing, is refused."""
    if value is not None and old_value is not None and value != old_value:
        raise KerasLLMError(f"{option} {value} and {old_option} {old_value}: {old_option} is the "
                            f"old name of {option}; pass {option} only.")
    return next((v for v in (value, old_value) if v is not None), default)


def corpus(patterns, option="--corpus"):
    """Expand corpus ``patterns`` and refuse binary files; returns the file list."""
    from kerasllm.data.corpus import expand_patterns
    from kerasllm.data.text_decoding import check_text_file

    try:
        files = expand_patterns(list(patterns), option=option)
        for path in files:
            check_text_file(path)
    except DataError as err:
        message = str(err)
        raise DataError(message if message.startswith(option) else f"{option}: {message}") from None
    return files


def text_file(path, option):
    """An existing, readable, non-binary file (a labelled CSV / JSONL, a --config)."""
    from kerasllm.data.text_decoding import check_text_file

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{option} {path}: is a directory; pass a file.")
    if not path.is_file():
        raise DataError(f"{option} {path}: file not found; check the path.")
    try:
        check_text_file(path)
    except DataError as err:
        raise DataError(f"{option} {err}") from None


def vocab_file(path, option="--vocab"):
    """A vocab.txt: a non-empty text file (directories and typos caught early)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{option} {path}: is a directory; pass the vocab.txt file inside it "
                        f"(e.g. {path / 'vocab.txt'}).")
    text_file(path, option)
    if path.stat().st_size == 0:
        raise DataError(f"{option} {path}: the file is empty; pass a vocab.txt with one token "
                        f"per line (make one with `kerasllm vocab`).")


def run_config(run_dir, command, tasks=None, family=None, need=""):
    """RUN_DIR's config, refused unless its task is in ``tasks`` / family is ``family``."""
    from kerasllm.runs import read_config

    config = read_config(run_dir)
    if family and config.get("family") != family:
        raise KerasLLMError(f"{run_dir}: {command} needs {need or f'a {family} run'}, received "
                            f"family {config.get('family')!r} (task {config.get('task')!r}).")
    if tasks and config.get("task") not in tasks:
        raise KerasLLMError(f"{run_dir}: {command} needs {need}, received task "
                            f"{config.get('task')!r}.")
    return config


def new_file(path, option, overwrite=False):
    """An output file: never a directory, never an existing file unless ``overwrite``."""
    path = Path(path)
    if path.is_dir():
        raise KerasLLMError(f"{option} {path}: is a directory; pass a file name.")
    if path.exists() and not overwrite:
        raise KerasLLMError(f"{option} {path}: already exists; pass --overwrite to replace it "
                            f"or choose another name.")
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)


def output_dir(path, option="--output"):
    """An output directory: refused when ``path`` is an existing file."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise KerasLLMError(f"{option} {path}: exists and is a file; pass a directory "
                            f"(new or empty) for the output.")


def seq_length(value, option):
    if value is not None and value > BERT_MAX_SEQ_LENGTH:
        raise KerasLLMError(f"{option} {value}: BERT models hold at most "
                            f"{BERT_MAX_SEQ_LENGTH} positions; pass {BERT_MAX_SEQ_LENGTH} or less.")
