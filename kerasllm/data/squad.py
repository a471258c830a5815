"""SQuAD v1.1 / v2.0 JSON -> question-answering examples.

``data[].paragraphs[].context`` and ``.qas[]`` with ``id``, ``question``,
``answers[].text`` / ``answer_start`` (a character offset into the context)
and, in v2.0, ``is_impossible``. Every problem is one ``DataError`` naming the
file and the key path (``data[0].paragraphs[3].qas[1].answers[0]``).
"""
import dataclasses
import json
import os
from typing import List, Tuple

from kerasllm.errors import DataError


@dataclasses.dataclass
class QAExample:
    """One question; ``answers`` are ``(text, character start)`` in ``context``."""

    id: str
    question: str
    context: str
    answers: List[Tuple[str, int]]
    impossible: bool = False


def _answer(context, answer, where):
    text, start = answer.get("text"), answer.get("answer_start")
    if not isinstance(text, str) or not isinstance(start, int):
        raise DataError(f"{where}: expected 'text' (a string) and 'answer_start' (an integer).")
    if context[start:start + len(text)] != text:
        # a few published files are off by a character or two: take the nearest occurrence
        found = [i for i in range(max(0, start - 20), start + 21)
                 if context[i:i + len(text)] == text]
        if not found:
            raise DataError(f"{where}: answer {text!r} is not at answer_start {start} of the "
                            f"context; fix answer_start.")
        start = min(found, key=lambda i: abs(i - start))
    return text, start


def read_squad_file(path):
    """Read a SQuAD-format JSON file into a list of ``QAExample``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: SQuAD file not found; check the path.")
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}: invalid JSON ({err.msg}).") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err.reason}); save it as UTF-8.") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(f"{path}: expected a SQuAD object with a 'data' list.")
    examples = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article.get("paragraphs") or []):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = paragraph.get("context")
            if not isinstance(context, str):
                raise DataError(f"{where}: missing 'context' (a string).")
            for q, qa in enumerate(paragraph.get("qas") or []):
                at = f"{where}.qas[{q}]"
                if not isinstance(qa.get("question"), str):
                    raise DataError(f"{at}: missing 'question' (a string).")
                impossible = bool(qa.get("is_impossible", False))
                answers = [_answer(context, answer, f"{at}.answers[{i}]")
                           for i, answer in enumerate(qa.get("answers") or [])]
                if not answers and not impossible:
                    raise DataError(f"{at}: no answers; give 'answers' or set "
                                    f"'is_impossible': true (SQuAD v2.0).")
                examples.append(QAExample(str(qa.get("id", f"{a}-{p}-{q}")), qa["question"],
                                          context, answers, impossible))
    if not examples:
        raise DataError(f"{path}: no questions; expected data[].paragraphs[].qas[].")
    return examples
