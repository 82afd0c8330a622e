"""The OpenCompass loader reads the work-dir layout the adapter is to write (see its module docstring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.report_runs import WEAK, length_judge
from support.scripted_judge import extract_slots

from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.results.loaders import load_runs
from longrm_tasks.results.records import ReportError, record_from_response
from longrm_tasks.scoring import aggregate

DOC_FIELDS = (
    "task_file",
    "row_index",
    "row_id",
    "tasktype",
    "subtype",
    "length_bucket",
    "order",
    "truncation",
)


def judged() -> list[tuple[dict, str]]:
    policy = length_judge(WEAK, salt="oc")
    return [
        ({k: item.to_doc()[k] for k in DOC_FIELDS}, policy(extract_slots(item.user_prompt), item.messages()))
        for item in judge_items(load_sample())
    ]


def expected_metrics(rows: list[tuple[dict, str]]) -> dict[str, float]:
    return aggregate([record_from_response(doc, text).scored() for doc, text in rows])


def write_work_dir(root: Path, *, details: bool, scale: float = 100.0, tamper: bool = False) -> Path:
    rows = judged()
    metrics = {key: scale * value for key, value in expected_metrics(rows).items()}
    if tamper:
        metrics["avg"] += 1.0
    run = root / "20260101_000000"
    result: dict = dict(metrics)
    if details:  # the adapter's evaluator shape: order as ``gold``, row index only in ``uid``
        result["details"] = [
            {**{k: v for k, v in doc.items() if k not in ("order", "row_index")},
             "uid": f"{doc['task_file']}-{doc['row_index']}", "gold": doc["order"], "prediction": text}
            for doc, text in rows
        ]  # fmt: skip
    else:
        predictions = {
            str(i): {"prediction": text, "gold": json.dumps(doc)} for i, (doc, text) in enumerate(rows)
        }
        (run / "predictions" / "judge-oc").mkdir(parents=True)
        (run / "predictions" / "judge-oc" / "longrewardbench_sample.json").write_text(json.dumps(predictions))
    (run / "results" / "judge-oc").mkdir(parents=True)
    (run / "results" / "judge-oc" / "longrewardbench_sample.json").write_text(json.dumps(result))
    (run / "results" / "judge-oc" / "other_dataset.json").write_text(json.dumps({"accuracy": 50.0}))
    return root


@pytest.mark.parametrize(("details", "scale"), [(True, 100.0), (False, 1.0)])
def test_work_dir_is_loaded_and_checked(tmp_path: Path, details: bool, scale: float) -> None:
    (run,) = load_runs(write_work_dir(tmp_path, details=details, scale=scale))
    assert run.harness == "opencompass" and run.name == "judge-oc [longrewardbench_sample]"
    assert len(run.samples) == 62
    assert run.aggregates() == pytest.approx(expected_metrics(judged()))
    assert set(run.harness_aggregates) >= {"avg", "len_avg", "rank4"}


def test_evaluator_metrics_that_disagree_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="do not reproduce the harness aggregates"):
        load_runs(write_work_dir(tmp_path, details=True, tamper=True))
