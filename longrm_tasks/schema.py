"""Validation of Long-RewardBench rows against the official schema (spec §1).

Every problem is reported as a :class:`RowValidationError` naming the file, the row index, the
row's id and the offending field, so a broken data file never turns into a deep traceback or a
silently dropped row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from .constants import BEST_OF_N, BEST_OF_N_SIZES, LENGTH_BUCKETS, PAIRWISE, TASK_TYPES
from .errors import RowValidationError

#: Every field of an official row, in the order the distributed files use.
ROW_FIELDS = (
    "id",
    "prompt_template",
    "question",
    "source",
    "chosen",
    "rejected",
    "subtask",
    "chosen_model",
    "rejected_model",
    "ctx_length_for_length",
    "ctx_length_for_words",
    "length",
    "words_count",
    "task",
    "tasktype",
    "subtype",
    "candidates_model",
    "candidates",
    "candidates_score",
)

#: Descriptive fields: may be null, but must have the right type when present.
_OPTIONAL_STR = ("question", "source", "subtask", "chosen_model", "rejected_model", "task")
_OPTIONAL_STR += ("ctx_length_for_words",)
_OPTIONAL_INT = ("length", "words_count")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite number (NaN and infinities are not scores: every comparison with NaN is false)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def validate_row(row: Any, file: str, index: int) -> dict[str, Any]:
    """Check one parsed JSON row; return it with ``subtype`` normalised to ``str``.

    ``index`` is the 0-based position of the row in its file (the official ``index``).
    """
    if not isinstance(row, Mapping):
        raise RowValidationError(file, index, None, None, f"expected a JSON object, got {_type_name(row)}")
    row_id = row.get("id")

    def fail(field: str, problem: str) -> RowValidationError:
        return RowValidationError(file, index, row_id, field, problem)

    missing = [name for name in ROW_FIELDS if name not in row]
    if missing:
        raise fail(missing[0], f"missing (row lacks {', '.join(missing)})")
    if not _is_int(row_id):
        raise fail("id", f"must be an integer, got {_type_name(row_id)}")

    template = row["prompt_template"]
    if not isinstance(template, list) or not template:
        raise fail("prompt_template", f"must be a non-empty list of messages, got {_type_name(template)}")
    for position, message in enumerate(template):
        if not isinstance(message, Mapping):
            raise fail("prompt_template", f"message {position} is {_type_name(message)}, not an object")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise fail(
                    "prompt_template",
                    f"message {position} needs a string {key!r}, got {_type_name(message.get(key))}",
                )

    for name in _OPTIONAL_STR:
        if row[name] is not None and not isinstance(row[name], str):
            raise fail(name, f"must be a string or null, got {_type_name(row[name])}")
    for name in _OPTIONAL_INT:
        if row[name] is not None and not _is_int(row[name]):
            raise fail(name, f"must be an integer or null, got {_type_name(row[name])}")

    bucket = row["ctx_length_for_length"]
    if bucket not in LENGTH_BUCKETS:
        raise fail("ctx_length_for_length", f"must be one of {', '.join(LENGTH_BUCKETS)}, got {bucket!r}")

    tasktype = row["tasktype"]
    if tasktype not in TASK_TYPES:
        raise fail("tasktype", f"must be {PAIRWISE!r} or {BEST_OF_N!r}, got {tasktype!r}")

    checked = dict(row)
    if tasktype == PAIRWISE:
        for name in ("chosen", "rejected"):
            if not isinstance(row[name], str) or not row[name]:
                raise fail(name, f"a pairwise row needs a non-empty string, got {_type_name(row[name])}")
        if not isinstance(row["subtype"], str):
            raise fail("subtype", f"must be a string, got {_type_name(row['subtype'])}")
        for name in ("candidates", "candidates_model", "candidates_score"):
            if row[name] is not None and not isinstance(row[name], list):
                raise fail(name, f"must be a list or null, got {_type_name(row[name])}")
        return checked

    subtype = row["subtype"]
    size = int(subtype) if _is_int(subtype) or (isinstance(subtype, str) and subtype.isdigit()) else None
    if size not in BEST_OF_N_SIZES:
        raise fail("subtype", f"a BestOfN row needs N in {{'2', '3', '4'}}, got {subtype!r}")
    checked["subtype"] = str(size)

    candidates = row["candidates"]
    if not isinstance(candidates, list) or not candidates:
        raise fail("candidates", f"a BestOfN row needs a non-empty list, got {candidates!r:.60}")
    if len(candidates) != size:
        raise fail("candidates", f"holds {len(candidates)} responses but subtype says N = {size}")
    for position, text in enumerate(candidates):
        if not isinstance(text, str) or not text:
            raise fail(
                "candidates", f"response {position} must be a non-empty string, got {_type_name(text)}"
            )

    scores = row["candidates_score"]
    if not isinstance(scores, list) or len(scores) != size:
        raise fail("candidates_score", f"must be a list of {size} numbers, got {scores!r:.60}")
    if not all(_is_number(score) for score in scores):
        raise fail("candidates_score", f"must hold finite numbers only, got {scores!r:.80}")
    if any(later > earlier for earlier, later in pairwise(scores)):
        raise fail(
            "candidates_score",
            f"must be non-increasing (candidates are stored best first), got {scores!r:.80}",
        )

    models = row["candidates_model"]
    if models is not None and not isinstance(models, list):
        raise fail("candidates_model", f"must be a list or null, got {_type_name(models)}")
    if models and len(models) != size:
        raise fail("candidates_model", f"holds {len(models)} names for {size} candidates")
    return checked
