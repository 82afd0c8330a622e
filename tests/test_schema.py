"""Row validation (spec §1 row fields): one broken row at index 2 of a tmp ``Cite.jsonl``."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from longrm_tasks.data import read_task_file
from longrm_tasks.errors import RowValidationError

SAMPLE_CITE = Path(__file__).resolve().parents[1] / "longrm_tasks" / "data" / "sample" / "Cite.jsonl"

# The 19 row fields of spec §1, written out by hand.
FIELDS = [
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
    "candidates",
    "candidates_model",
    "candidates_score",
]
BROKEN_ID = 102


def _sample_rows():
    return [json.loads(line) for line in SAMPLE_CITE.read_text(encoding="utf-8").splitlines() if line.strip()]


def valid_row(tasktype, n=None):
    for row in _sample_rows():
        if row["tasktype"] == tasktype and (n is None or len(row["candidates"]) == n):
            return copy.deepcopy(row)
    raise AssertionError(f"no {tasktype} row in the sample")


PAIRWISE_ROW = valid_row("PairWise")
BON_ROW = valid_row("BestOfN", 3)


def test_base_rows_are_what_the_cases_assume():
    assert len(FIELDS) == 19
    assert set(PAIRWISE_ROW) == set(FIELDS) and set(BON_ROW) == set(FIELDS)
    assert PAIRWISE_ROW["chosen"] and PAIRWISE_ROW["rejected"]
    assert BON_ROW["subtype"] == "3" and len(BON_ROW["candidates"]) == 3
    assert BON_ROW["candidates_score"] == sorted(BON_ROW["candidates_score"], reverse=True)


def line(row):
    return json.dumps(row, ensure_ascii=False).encode("utf-8")


def write_file(tmp_path, broken: bytes) -> Path:
    """Rows 0, 1, 3 valid (ids 100, 101, 103); row 2 is ``broken``."""
    good = [dict(PAIRWISE_ROW, id=100), dict(BON_ROW, id=101)]
    after = dict(PAIRWISE_ROW, id=103)
    path = tmp_path / "Cite.jsonl"
    path.write_bytes(b"\n".join([line(good[0]), line(good[1]), broken, line(after)]) + b"\n")
    return path


def assert_error(error: RowValidationError, field, row_id):
    message = str(error)
    assert error.row == 2
    assert error.field == field or (isinstance(field, tuple) and error.field in field)
    assert "Cite.jsonl" in error.file and "Cite.jsonl" in message
    assert re.search(r"\brow\W*2\b", message), message
    if error.field is not None:
        assert error.field in message
    if row_id is not None:
        assert error.row_id == row_id
        assert str(row_id) in message
    assert "\n" not in message


def test_valid_file_reads(tmp_path):
    path = write_file(tmp_path, line(dict(BON_ROW, id=BROKEN_ID)))
    rows, _ = read_task_file(path)
    assert [row["id"] for row in rows] == [100, 101, BROKEN_ID, 103]
    assert [row["tasktype"] for row in rows] == ["PairWise", "BestOfN", "BestOfN", "PairWise"]


@pytest.mark.parametrize("base", ["PairWise", "BestOfN"])
@pytest.mark.parametrize("field", FIELDS)
def test_missing_field(tmp_path, base, field):
    row = dict(PAIRWISE_ROW if base == "PairWise" else BON_ROW, id=BROKEN_ID)
    del row[field]
    with pytest.raises(RowValidationError) as info:
        read_task_file(write_file(tmp_path, line(row)))
    assert_error(info.value, field, None if field == "id" else BROKEN_ID)


def pw_with(**changes):
    return {**PAIRWISE_ROW, "id": BROKEN_ID, **changes}


def bon_with(**changes):
    return {**BON_ROW, "id": BROKEN_ID, **changes}


WRONG_VALUES = [
    ("id-string", pw_with(id="102"), "id", "102"),
    ("id-float", pw_with(id=102.5), "id", 102.5),
    ("id-bool", pw_with(id=True), "id", None),
    ("id-null", pw_with(id=None), "id", None),
    ("template-string", pw_with(prompt_template="just text"), "prompt_template", BROKEN_ID),
    (
        "template-object",
        pw_with(prompt_template={"role": "user", "content": "x"}),
        "prompt_template",
        BROKEN_ID,
    ),
    ("template-no-content", pw_with(prompt_template=[{"role": "user"}]), "prompt_template", BROKEN_ID),
    (
        "template-content-int",
        pw_with(prompt_template=[{"role": "user", "content": 5}]),
        "prompt_template",
        BROKEN_ID,
    ),
    ("template-message-string", pw_with(prompt_template=["hello"]), "prompt_template", BROKEN_ID),
    ("template-empty", pw_with(prompt_template=[]), "prompt_template", BROKEN_ID),
    ("tasktype-case", pw_with(tasktype="Pairwise"), "tasktype", BROKEN_ID),
    ("tasktype-unknown", bon_with(tasktype="BestOf3"), "tasktype", BROKEN_ID),
    ("tasktype-null", pw_with(tasktype=None), "tasktype", BROKEN_ID),
    ("bucket-5k", pw_with(ctx_length_for_length="5k"), "ctx_length_for_length", BROKEN_ID),
    ("bucket-upper", bon_with(ctx_length_for_length="4K"), "ctx_length_for_length", BROKEN_ID),
    ("bucket-int", pw_with(ctx_length_for_length=4), "ctx_length_for_length", BROKEN_ID),
    ("chosen-empty", pw_with(chosen=""), "chosen", BROKEN_ID),
    ("chosen-null", pw_with(chosen=None), "chosen", BROKEN_ID),
    ("rejected-empty", pw_with(rejected=""), "rejected", BROKEN_ID),
    ("rejected-list", pw_with(rejected=["x"]), "rejected", BROKEN_ID),
    ("candidates-empty", bon_with(candidates=[]), "candidates", BROKEN_ID),
    ("candidates-null", bon_with(candidates=None), "candidates", BROKEN_ID),
    ("candidates-not-str", bon_with(candidates=[1, 2, 3]), "candidates", BROKEN_ID),
    (
        # N (subtype "3") != len(candidates) (4): either field may be blamed
        "n-mismatch",
        bon_with(candidates=[*BON_ROW["candidates"], "extra"], candidates_score=[9.0, 8.0, 7.0, 6.0]),
        ("candidates", "subtype"),
        BROKEN_ID,
    ),
    (
        "n-mismatch-short",
        bon_with(subtype="4"),  # subtype 4, three candidates
        ("candidates", "subtype"),
        BROKEN_ID,
    ),
    ("scores-increasing", bon_with(candidates_score=[2.0, 7.0, 9.5]), "candidates_score", BROKEN_ID),
    ("scores-up-at-end", bon_with(candidates_score=[9.5, 2.0, 7.0]), "candidates_score", BROKEN_ID),
    ("scores-slightly-up", bon_with(candidates_score=[9.5, 7.0, 7.25]), "candidates_score", BROKEN_ID),
    ("scores-strings", bon_with(candidates_score=["9.5", "7.0", "2.0"]), "candidates_score", BROKEN_ID),
    ("scores-short", bon_with(candidates_score=[9.5, 7.0]), "candidates_score", BROKEN_ID),
    ("subtype-5", bon_with(subtype="5"), "subtype", BROKEN_ID),
    ("subtype-1", bon_with(subtype="1"), "subtype", BROKEN_ID),
    ("subtype-same-for-bon", bon_with(subtype="same"), "subtype", BROKEN_ID),
    ("length-string", pw_with(length="12029"), "length", BROKEN_ID),
    ("words-count-string", bon_with(words_count="8725"), "words_count", BROKEN_ID),
]


@pytest.mark.parametrize(
    ("row", "field", "row_id"), [case[1:] for case in WRONG_VALUES], ids=[c[0] for c in WRONG_VALUES]
)
def test_wrong_value(tmp_path, row, field, row_id):
    with pytest.raises(RowValidationError) as info:
        read_task_file(write_file(tmp_path, line(row)))
    assert_error(info.value, field, row_id)


def test_non_increasing_scores_with_ties_are_valid(tmp_path):
    rows, _ = read_task_file(write_file(tmp_path, line(bon_with(candidates_score=[7.0, 7.0, 2.0]))))
    assert rows[2]["candidates_score"] == [7.0, 7.0, 2.0]


_FULL = line(dict(PAIRWISE_ROW, id=BROKEN_ID))
LINE_CASES = [
    ("truncated-json", _FULL[: len(_FULL) // 2]),
    ("truncated-last-brace", _FULL[:-1]),
    ("invalid-utf8", _FULL.replace(b'"chosen": "', b'"chosen": "\xff\xfe', 1)),
    ("json-array", b"[1, 2, 3]"),
    ("json-array-of-row", b"[" + _FULL + b"]"),
    ("json-string", b'"a row"'),
    ("json-null", b"null"),
    ("not-json", b"id=102"),
]


@pytest.mark.parametrize("broken", [case[1] for case in LINE_CASES], ids=[case[0] for case in LINE_CASES])
def test_line_level_problem(tmp_path, broken):
    with pytest.raises(RowValidationError) as info:
        read_task_file(write_file(tmp_path, broken))
    assert_error(info.value, None, None)


def test_error_is_a_value_error(tmp_path):
    with pytest.raises(ValueError):
        read_task_file(write_file(tmp_path, b"[]"))
