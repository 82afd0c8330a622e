"""Hostile data rows and folders: one line naming file, row, id and field — never a traceback, never a
row accepted that the official schema does not allow, never a task silently scored on missing rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from longrm_tasks.data import SAMPLE_DIR, load_benchmark, load_local, read_task_file
from longrm_tasks.errors import DataSourceError, RowValidationError
from longrm_tasks.integrity import IntegrityError, check_integrity
from longrm_tasks.synthetic import write_dataset

CITE_LINES = (SAMPLE_DIR / "Cite.jsonl").read_text("utf-8").splitlines()


def _copy_sample(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in SAMPLE_DIR.glob("*.jsonl"):
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def _bon_line() -> tuple[int, dict]:
    for number, line in enumerate(CITE_LINES):
        row = json.loads(line)
        if row["tasktype"] == "BestOfN":
            return number, row
    raise AssertionError("no best-of-N row in the sample's Cite.jsonl")


def _write(folder: Path, lines: list[str]) -> Path:
    path = folder / "Cite.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _with_row(folder: Path, number: int, text: str) -> Path:
    lines = list(CITE_LINES)
    lines[number] = text
    return _write(folder, lines)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_nan_scores_are_refused(tmp_path: Path, bad: str) -> None:
    number, row = _bon_line()
    scores = [bad, *(str(score) for score in row["candidates_score"][1:])]  # the right length, one not finite
    text = json.dumps(row).replace(json.dumps(row["candidates_score"]), "[" + ", ".join(scores) + "]")
    assert bad in text
    path = _with_row(tmp_path, number, text)
    pattern = rf"row {number} .*id {row['id']}, field 'candidates_score': must hold finite numbers"
    with pytest.raises(RowValidationError, match=pattern):
        read_task_file(path)


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    path = _with_row(tmp_path, 4, "[" * 100_000 + "]" * 100_000)
    with pytest.raises(RowValidationError, match=r"Cite\.jsonl, row 4 .*nested too deeply"):
        read_task_file(path)


def test_a_five_thousand_digit_integer_is_one_line(tmp_path: Path) -> None:
    row = json.loads(CITE_LINES[2])
    path = _with_row(tmp_path, 2, json.dumps(row).replace(f'"id": {row["id"]}', '"id": ' + "9" * 5000, 1))
    with pytest.raises(RowValidationError, match=r"Cite\.jsonl, row 2 .*not a valid row"):
        read_task_file(path)


def test_lone_surrogates_in_contents_are_refused(tmp_path: Path) -> None:
    row = json.loads(CITE_LINES[1])
    text = json.dumps(row).replace('"content": "', '"content": "\\ud800x', 1)
    path = _with_row(tmp_path, 1, text)
    with pytest.raises(
        RowValidationError, match=rf"row 1 .*id {row['id']}, field 'prompt_template.0.content'"
    ):
        read_task_file(path)
    # A correctly paired surrogate escape is ordinary text.
    _with_row(tmp_path, 1, json.dumps(row).replace('"content": "', '"content": "\\ud83d\\ude00', 1))
    assert "\U0001f600" in read_task_file(tmp_path / "Cite.jsonl")[0][1]["prompt_template"][0]["content"]


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    row = json.loads(CITE_LINES[3])
    text = json.dumps(row)[:-1] + ', "chosen": "a second, different chosen response"}'
    path = _with_row(tmp_path, 3, text)
    with pytest.raises(RowValidationError, match=r"row 3 .*field 'chosen': key appears twice"):
        read_task_file(path)


def test_duplicate_ids_within_a_file_are_refused(tmp_path: Path) -> None:
    first, second = json.loads(CITE_LINES[0]), json.loads(CITE_LINES[5])
    second["id"] = first["id"]
    path = _with_row(tmp_path, 5, json.dumps(second))
    with pytest.raises(
        RowValidationError, match=rf"row 5 .*id {first['id']}, field 'id': the same id as row 0"
    ):
        read_task_file(path)


def test_an_empty_task_file_is_an_error_not_a_task_scored_zero(tmp_path: Path) -> None:
    folder = _copy_sample(tmp_path / "data")
    (folder / "Math.jsonl").write_text("", "utf-8")
    for full_set, partial in ((False, False), (True, False), (True, True)):
        with pytest.raises(IntegrityError, match=r"Math\.jsonl has no rows"):
            check_integrity(load_local(folder), full_set=full_set, partial=partial)


def test_a_full_run_with_missing_rows_is_an_error_unless_partial_on_purpose(tmp_path: Path) -> None:
    write_dataset(tmp_path, scale="full")
    cite = tmp_path / "Cite.jsonl"
    lines = cite.read_text("utf-8").splitlines(keepends=True)
    cite.write_text("".join(lines[:-3]), "utf-8")
    with pytest.raises(
        IntegrityError, match=r"Cite.jsonl has 387 rows, fewer than the benchmark's 390.*partial_data"
    ):
        check_integrity(load_local(tmp_path), full_set=True)
    report = check_integrity(load_local(tmp_path), full_set=True, partial=True)
    assert "Cite.jsonl has 387 rows, the benchmark 390" in report.problems


def test_a_data_dir_that_is_a_file_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "Cite.jsonl"
    target.write_text(CITE_LINES[0] + "\n", "utf-8")
    monkeypatch.setenv("LONGRM_DATA_DIR", str(target))
    with pytest.raises(DataSourceError, match="is a file, not a folder"):
        load_benchmark()


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"id": ' + "7" * 5000 + "}",
        json.dumps(json.loads(CITE_LINES[0])).replace('"chosen"', '"chosen": "x", "chosen"', 1),
    ],
    ids=["deep", "huge-int", "duplicate-key"],
)
def test_the_cli_prints_one_line_and_exits_1(tmp_path: Path, line: str) -> None:
    folder = _copy_sample(tmp_path / "data")
    lines = (folder / "Code.jsonl").read_text("utf-8").splitlines()
    lines[2] = line
    (folder / "Code.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "longrm_tasks.cli", "baselines", "--data-dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [text for text in result.stderr.splitlines() if text.strip()]
    assert len(errors) == 1 and "Code.jsonl, row 2 (line 3)" in errors[0], errors
