"""``longrm report`` over a real lm-eval run (scripted judge): numbers equal the harness's aggregates."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from support.report_runs import STRONG, length_judge, run_lm_eval

from longrm_tasks.cli import main
from longrm_tasks.demo import balanced_halves
from longrm_tasks.report.tables import TABLES
from longrm_tasks.results.lm_eval_runs import load_lm_eval
from longrm_tasks.results.records import ReportError
from longrm_tasks.results.submission import build_submission
from longrm_tasks.results.validation import validate_document
from longrm_tasks.scoring import METRIC_REDUCERS

pytestmark = pytest.mark.slow
TASK = "longrewardbench_sample"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_lm_eval(
        tmp_path_factory.mktemp("lm_eval"), length_judge(STRONG, salt="strong"), model="judge-x"
    )


@pytest.fixture(scope="module")
def harness(run_dir: Path) -> dict[str, float]:
    (results_path,) = run_dir.glob("results_*.json")
    reported = json.loads(results_path.read_text("utf-8"))["results"][TASK]
    # lm-eval's own stderr entries ("avg_stderr,none") are not aggregates of ours.
    return {
        key.removesuffix(",none"): value
        for key, value in reported.items()
        if key.endswith(",none") and not key.endswith("_stderr,none")
    }


@pytest.fixture(scope="module")
def report(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert main(["report", str(run_dir.parent), "--out", str(out), "--controls", "--iterations", "500"]) == 0
    return out


def test_records_reproduce_every_harness_aggregate(run_dir: Path, harness: dict[str, float]) -> None:
    (run,) = load_lm_eval(run_dir)
    assert run.name == "judge-x" and run.task == TASK and len(run.samples) == 62
    # Every aggregate but context_cut (reported in context-only truncation mode only).
    assert set(run.harness_aggregates) == set(METRIC_REDUCERS) - {"context_cut"}
    ours = run.aggregates()
    for key, value in harness.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, abs=1e-12), key
    assert 0 < ours["avg"] < 1 and 0 < ours["parse_fail"] < 1
    provenance = run.provenance
    assert (
        provenance["backend"] == "local-chat-completions" and provenance["prompt_set"] == "longrm-official-v1"
    )
    assert provenance["order_seed"] == 42 and provenance["data_source"] == "bundled-sample"
    assert len(provenance["data_files_sha256"]) == 7 and provenance["versions"]["lm_eval"]


def test_report_tables_equal_the_harness(report: Path, harness: dict[str, float]) -> None:
    document = json.loads((report / "report.json").read_text("utf-8"))
    checked = 0
    for name, columns in TABLES.items():
        (row,) = [r for r in document["tables"][name] if r["kind"] == "run"]
        for label, key in columns:
            cell = row["values"][label]
            assert cell["value"] == pytest.approx(harness[key], abs=1e-12), (name, label)
            low, high = cell["ci95"]
            assert low <= cell["value"] + 1e-12 and cell["value"] - 1e-12 <= high, (name, label)
            checked += 1
    assert checked == 24
    with (report / "table1.csv").open(encoding="utf-8") as handle:
        first = next(csv.DictReader(handle))
    assert float(first["Avg."]) == pytest.approx(harness["avg"], abs=1e-12)
    markdown = (report / "report.md").read_text("utf-8")
    assert f"| judge-x | {100 * harness['task_longqa']:.1f} (" in markdown
    assert f"equal to the {len(METRIC_REDUCERS) - 1} aggregates lm-eval reported (checked)" in markdown
    assert "longest response *(control)*" in markdown and "## Provenance" in markdown
    failures = [r for r in document["parse_failures"] if r["model"] == "judge-x"]
    assert sum(r["failed"] for r in failures if r["by"] == "task_file") == round(62 * harness["parse_fail"])


def test_figures_exist_and_are_not_trivial(report: Path) -> None:
    for name in ("length_curve", "per_task"):
        png, svg = report / f"{name}.png", report / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000, name
        text = svg.read_text("utf-8")
        assert text.lstrip().startswith("<?xml") and "<svg" in text and text.count("<path") > 20, name


def test_report_is_reproducible(run_dir: Path, report: Path, tmp_path: Path) -> None:
    assert main(["report", str(run_dir), "--out", str(tmp_path), "--controls", "--iterations", "500"]) == 0
    for name in ("report.md", "table1.csv", "table2.csv", "summary.csv", "length_curve.svg"):
        assert (tmp_path / name).read_bytes() == (report / name).read_bytes(), name


def test_tampered_logs_are_refused(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (samples,) = copy.glob("samples_*.jsonl")
    lines = samples.read_text("utf-8").splitlines()
    entry = json.loads(lines[0])
    entry["avg"] = 1.0 - entry["avg"]
    samples.write_text("\n".join([json.dumps(entry), *lines[1:]]) + "\n", "utf-8")
    with pytest.raises(ReportError, match=r"logged score .* but the response rescores to"):
        load_lm_eval(copy)
    samples.write_text("\n".join(lines) + "\n", "utf-8")
    (results_path,) = copy.glob("results_*.json")
    results = json.loads(results_path.read_text("utf-8"))
    results["results"][TASK]["len_8k,none"] = 0.123
    results_path.write_text(json.dumps(results), "utf-8")
    with pytest.raises(ReportError, match=r"do not reproduce the harness aggregates \(len_8k"):
        load_lm_eval(copy)
    samples.unlink()
    assert main(["report", str(copy), "--out", str(tmp_path / "r")]) == 1


def test_submission_from_the_run_validates(run_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "sub.json"
    assert main(["submission", str(run_dir), "--out", str(path), "--name", "Judge X"]) == 0
    document = json.loads(path.read_text("utf-8"))
    assert document["model"] == {"name": "Judge X", "type": "generative"}
    assert all("response" in sample for sample in document["samples"])
    assert validate_document(document).ok
    (run,) = load_lm_eval(run_dir)
    assert build_submission(run)["aggregates"] == pytest.approx(
        {k: v for k, v in run.aggregates().items() if k in document["aggregates"]}
    )
    assert main(["validate", str(path)]) == 0


@pytest.fixture(scope="module")
def parts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same judge's run, split in two lm-eval runs by format (as the demo runs it, one per core)."""
    parts = tmp_path_factory.mktemp("parts")
    for task in ("longrewardbench_pairwise_sample", "longrewardbench_bon_sample"):
        run_lm_eval(parts / task, length_judge(STRONG, salt="strong"), model="judge-x", task=task)
    return parts


def test_complementary_parts_are_one_run(parts_dir: Path, harness: dict[str, float]) -> None:
    (run,) = load_lm_eval(parts_dir)
    assert run.name == "judge-x" and len(run.samples) == 62
    assert run.task == "longrewardbench_bon_sample+longrewardbench_pairwise_sample"
    # Every aggregate equals what lm-eval reported for the whole sample in one run.
    ours = run.aggregates()
    for key, value in harness.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, abs=1e-12), key
    assert [part["task"] for part in run.provenance["parts"]] == run.task.split("+")
    assert sorted(run.provenance["formats"]) == ["BestOfN", "PairWise"]
    # Each part was checked against its own harness aggregates.
    first, second = run.task.split("+")
    assert {key.split("/")[0] for key in run.harness_aggregates} == {f"1:{first}", f"2:{second}"}


def test_halves_of_one_task_are_one_run(harness: dict[str, float], tmp_path: Path) -> None:
    halves = balanced_halves([len(str(i)) + i % 7 for i in range(62)])
    assert sorted(halves[0] + halves[1]) == list(range(62)) and halves[0] and halves[1]
    for number, half in enumerate(halves, start=1):
        run_lm_eval(
            tmp_path / f"half{number}",
            length_judge(STRONG, salt="strong"),
            model="judge-x",
            extra_args=["--samples", json.dumps({TASK: half})],
        )
    (run,) = load_lm_eval(tmp_path)
    assert run.name == "judge-x" and run.task == TASK and len(run.samples) == 62
    ours = run.aggregates()
    for key, value in harness.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, abs=1e-12), key


def test_overlapping_or_different_runs_stay_apart(parts_dir: Path, run_dir: Path, tmp_path: Path) -> None:
    both = tmp_path / "both"
    shutil.copytree(parts_dir / "longrewardbench_pairwise_sample", both / "part")
    shutil.copytree(run_dir, both / "whole")  # the pairwise rows twice: not one run
    names = sorted(run.name for run in load_lm_eval(both))
    assert names == ["judge-x [longrewardbench_pairwise_sample]", "judge-x [longrewardbench_sample]"]
    other = tmp_path / "other"
    shutil.copytree(parts_dir, other)
    (results,) = (other / "longrewardbench_bon_sample").rglob("results_*.json")
    document = json.loads(results.read_text("utf-8"))
    document["config"]["model_args"]["temperature_note"] = "another setting"
    results.write_text(json.dumps(document), "utf-8")
    assert len(load_lm_eval(other)) == 2  # another setting: two runs
