"""``longrm validate``: a valid submission passes; each broken one is rejected with its own message."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.report_runs import STRONG, length_judge, sample_run

from longrm_tasks.cli import main
from longrm_tasks.results import loaders as loaders_module
from longrm_tasks.results.loaders import read_file
from longrm_tasks.results.submission import build_submission
from longrm_tasks.results.submission_schema import SCHEMA_VERSION, submission_schema
from longrm_tasks.results.validation import validate_document

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def valid() -> Doc:
    return build_submission(sample_run(length_judge(STRONG, salt="strong"), name="scripted-strong"))


def first(doc: Doc, tasktype: str) -> Doc:
    return next(s for s in doc["samples"] if s["tasktype"] == tasktype)


def test_valid_submission_passes(valid: Doc, tmp_path: Path) -> None:
    result = validate_document(copy.deepcopy(valid))
    assert result.ok, [str(p) for p in result.errors]
    assert result.run is not None and len(result.run.samples) == len(valid["samples"]) == 62
    assert result.run.aggregates()["avg"] == valid["aggregates"]["avg"]
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(valid), "utf-8")
    assert main(["validate", str(path)]) == 0


def test_schema_is_versioned_and_printable(capsys: pytest.CaptureFixture) -> None:
    assert submission_schema()["$id"] == SCHEMA_VERSION == "longrm-submission/1"
    assert main(["validate", "--print-schema", "x"]) == 0
    assert json.loads(capsys.readouterr().out)["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def mutate(change: Callable[[Doc], None]) -> Callable[[Doc], Doc]:
    def apply(doc: Doc) -> Doc:
        doc = copy.deepcopy(doc)
        change(doc)
        return doc

    return apply


def _set_pairwise(field: str, value: Any) -> Callable[[Doc], None]:
    return lambda doc: first(doc, "PairWise").__setitem__(field, value)


def _swap_order(doc: Doc) -> None:
    sample = first(doc, "PairWise")
    sample["order"] = sample["order"][::-1]
    sample.pop("score")
    sample["prediction"] = sample["prediction"][::-1]
    sample["response"] = {"[0, 1]": "[[A]]", "[1, 0]": "[[B]]", "[]": "no verdict"}[str(sample["prediction"])]


def _tamper_all_scores(doc: Doc) -> None:
    for sample in doc["samples"]:
        sample["score"] = 1.0
    doc["aggregates"] = {key: 1.0 for key in doc["aggregates"]}


BROKEN: list[tuple[str, Callable[[Doc], Doc], str, str]] = [
    (
        "version missing",
        mutate(lambda d: d.pop("schema_version")),
        "schema-version",
        "missing: this validator reads",
    ),
    (
        "old version",
        mutate(lambda d: d.update(schema_version="longrm-submission/0")),
        "schema-version",
        "unsupported ('longrm-submission/0')",
    ),
    ("no model name", mutate(lambda d: d["model"].pop("name")), "schema", "'name' is a required property"),
    ("unknown task file", mutate(_set_pairwise("task_file", "Poetry")), "schema", "is not one of"),
    ("negative slot", mutate(_set_pairwise("order", [-1, 0])), "schema", "less than the minimum of 0"),
    (
        "extra field",
        mutate(_set_pairwise("judge_cost", 3)),
        "schema",
        "Additional properties are not allowed",
    ),
    (
        "no verdict at all",
        mutate(lambda d: [first(d, "PairWise").pop(k) for k in ("response", "prediction")]),
        "schema",
        "is not valid under any of the given schemas",
    ),
    (
        "aggregate out of range",
        mutate(lambda d: d["aggregates"].update(avg=1.5)),
        "schema",
        "greater than the maximum of 1",
    ),
    (
        "tampered aggregate",
        mutate(lambda d: d["aggregates"].update(avg=round(d["aggregates"]["avg"] + 0.1, 6))),
        "aggregate-mismatch",
        "but the per-sample data give",
    ),
    (
        "tampered parse-failure rate",
        mutate(lambda d: d["aggregates"].update(parse_fail=0.0)),
        "aggregate-mismatch",
        "tampered or stale aggregate",
    ),
    (
        "scores inflated with aggregates",
        mutate(_tamper_all_scores),
        "score-mismatch",
        "scores 0.0 against order",
    ),
    (
        "prediction disagrees with response",
        mutate(_set_pairwise("prediction", [])),
        "prediction-mismatch",
        "but the response parses to",
    ),
    (
        "duplicate row",
        mutate(lambda d: d["samples"].append(copy.deepcopy(d["samples"][0]))),
        "duplicate",
        "duplicate row LongQA row",
    ),
    (
        "order not a permutation",
        mutate(_set_pairwise("order", [0, 0])),
        "order",
        "is not a permutation of the 2",
    ),
    (
        "order not official",
        mutate(_swap_order),
        "order-not-official",
        "is not the official presentation order",
    ),
    (
        "length bucket moved",
        mutate(
            lambda d: first(d, "PairWise").update(
                length_bucket="4k" if first(d, "PairWise")["length_bucket"] != "4k" else "8k"
            )
        ),
        "row-mismatch",
        "length_bucket",
    ),
    ("row that does not exist", mutate(_set_pairwise("row_index", 999)), "unknown-row", "no row 999"),
    (
        "bad N",
        mutate(lambda d: first(d, "BestOfN").update(subtype="5")),
        "subtype",
        "needs subtype '2', '3' or '4'",
    ),
    (
        "data hash changed",
        mutate(lambda d: d["provenance"]["data_files_sha256"].update({"Math.jsonl": "0" * 64})),
        "data-sha256",
        "Math.jsonl has sha256 000000000000",
    ),
    (
        "pairwise ranking of three",
        mutate(
            lambda d: [
                first(d, "PairWise").pop("response"),
                first(d, "PairWise").update(prediction=[0, 2, 1]),
            ]
        ),
        "prediction",
        "a pairwise prediction is",
    ),
]


@pytest.mark.parametrize(("case", "breaker", "code", "message"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_submission_is_rejected_with_its_message(
    valid: Doc, case: str, breaker: Callable[[Doc], Doc], code: str, message: str
) -> None:
    result = validate_document(breaker(valid))
    assert not result.ok, case
    assert any(p.code == code and message in str(p) for p in result.errors), [
        (p.code, str(p)) for p in result.errors
    ]


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b"{not json", "not-json", "not valid JSON: Expecting property name"),
        (b'{"schema_version": NaN}', "not-json", "NaN is not allowed"),
        (b"\xff\xfe{}", "not-utf8", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "too-deep", "nested too deeply"),
    ],
)
def test_unreadable_files_are_rejected(tmp_path: Path, raw: bytes, code: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    result = read_file(path).findings
    assert [(p.code, message in str(p)) for p in result.errors] == [(code, True)], result.errors


def test_a_json_value_that_is_not_a_longrm_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert [p.code for p in validate_document([1, 2]).errors] == ["not-object"]
    path = tmp_path / "list.json"
    path.write_bytes(b"[1, 2]")
    assert main(["validate", str(path)]) == 1
    assert (
        capsys.readouterr().out
        == f"{path}: error [not-longrm]: neither a longrm submission nor a reference file\n"
    )


def test_oversized_file_is_rejected_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders_module, "MAX_BYTES", 10)
    path = tmp_path / "big.json"
    path.write_text('{"schema_version": "x", "padding": 1}', "utf-8")
    (problem,) = read_file(path).findings.errors
    assert problem.code == "too-large" and "more than the 10 byte limit" in str(problem)


def test_cli_reports_each_error_with_its_code(
    valid: Doc, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    doc = copy.deepcopy(valid)
    doc["aggregates"]["avg"] = 0.99
    doc["model"]["name"] = "<script>alert(1)</script>"  # a valid name: only escaped when shown
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(doc), "utf-8")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error [aggregate-mismatch]: $.aggregates.avg: 0.99 but the per-sample data give" in out


def test_content_is_never_executed(valid: Doc, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    doc = copy.deepcopy(valid)
    first(doc, "PairWise")["response"] = f"__import__('os').system('touch {marker}') [[A]]"
    first(doc, "PairWise")["prediction"] = [0, 1]
    first(doc, "PairWise").pop("score")
    validate_document(doc)
    assert not marker.exists()
