"""JSON-lines files as labelled data: one object per line, blank lines skipped."""
import json

from kerasllm.errors import DataError, location


def jsonl_rows(path):
    """Yield ``(line number, object, its keys)``; a bad line is one error naming file:line."""
    with open(path, encoding="utf-8-sig") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as err:
                raise DataError(f"{location(path, number)}: not valid JSON ({err.msg}).") from None
            if not isinstance(record, dict):
                raise DataError(f"{location(path, number)}: expected a JSON object per line.")
            yield number, record, list(record)
