"""``longrm compare``: a planted difference is flagged where it was planted; identical runs flag nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from longrm_tasks.cli import main
from longrm_tasks.constants import (
    BEST_OF_N_SIZES,
    EXPECTED_FILE_ROWS,
    EXPECTED_PAIRWISE_ROWS,
    LENGTH_BUCKETS,
    TASK_FILES,
)
from longrm_tasks.order import presentation_orders
from longrm_tasks.report.compare import MCNEMAR, compare_runs, comparison_markdown
from longrm_tasks.results.records import ReportError, Run, record_from_prediction
from longrm_tasks.results.submission import build_submission

ITERATIONS = 1000


def skeleton() -> list[dict]:
    """Docs of a full-size benchmark (real per-file/format counts) in official presentation order."""
    docs = []
    for task in TASK_FILES:
        pairwise, total = EXPECTED_PAIRWISE_ROWS[task], EXPECTED_FILE_ROWS[task]
        rows = [
            {"tasktype": "PairWise", "subtype": "same" if i % 3 == 0 else "cross", "candidates": []}
            if i < pairwise
            else {
                "tasktype": "BestOfN",
                "subtype": str(BEST_OF_N_SIZES[i % 3]),
                "candidates": [""] * (2 + i % 3),
            }
            for i in range(total)
        ]
        for index, order in presentation_orders(rows):
            row = rows[index]
            docs.append(
                {
                    "task_file": task,
                    "row_index": index,
                    "row_id": index,
                    "tasktype": row["tasktype"],
                    "subtype": row["subtype"],
                    "length_bucket": LENGTH_BUCKETS[index % len(LENGTH_BUCKETS)],
                    "order": order,
                    "truncation": "none",
                }
            )
    return docs


DOCS = skeleton()


def judged(doc: dict, right: bool) -> list[int]:
    """A prediction that is right (the gold ranking) or wrong (best and runner-up swapped)."""
    gold = list(doc["order"])
    if right:
        return gold
    return [1 if rank == 0 else 0 if rank == 1 else rank for rank in gold]


def synthetic_run(name: str, accuracy: dict[str, float], seed: int, base: dict | None = None) -> Run:
    """Each row right with ``accuracy[task_file]`` (default ``accuracy['*']``).

    With ``base``, only the pairwise rows of the task files named in ``accuracy`` are judged anew.
    """
    rng = random.Random(seed)
    records = []
    for doc in DOCS:
        key = (doc["task_file"], doc["row_index"])
        if base is not None and (doc["task_file"] not in accuracy or doc["tasktype"] != "PairWise"):
            records.append(base[key])
            continue
        p = accuracy.get(doc["task_file"], accuracy.get("*", 0.7))
        records.append(record_from_prediction(doc, judged(doc, rng.random() < p)))
    provenance = {"harness": "synthetic", "prompt_set": "longrm-official-v1", "order_seed": 42,
                  "data_source": "synthetic", "data_files_sha256": {}}  # fmt: skip
    return Run(name, records, "synthetic", "synthetic", provenance=provenance)


@pytest.fixture(scope="module")
def run_a() -> Run:
    return synthetic_run("A", {"*": 0.75}, seed=1)


@pytest.fixture(scope="module")
def run_b(run_a: Run) -> Run:
    """A with LongQA's pairwise rows re-judged at a much lower accuracy; every other row as in A."""
    return synthetic_run("B", {"LongQA": 0.45}, seed=2, base=run_a.by_key())


def test_planted_difference_is_flagged_where_planted(run_a: Run, run_b: Run) -> None:
    comparison = compare_runs(run_a, run_b, iterations=ITERATIONS, seed=0)
    rows = {row.key: row for row in comparison.rows}
    assert comparison.shared == 1900
    longqa = rows["task_longqa"]
    assert longqa.significant and longqa.test == MCNEMAR and longqa.difference > 0.15
    assert longqa.only_a is not None and longqa.only_b is not None and longqa.only_a > longqa.only_b
    for task in TASK_FILES[1:]:
        row = rows[f"task_{task.lower()}"]
        assert not row.significant and row.p_value == 1.0 and row.difference == 0.0, task
    assert rows["avg"].significant  # the overall score contains the LongQA rows
    for key in ("rank2", "rank3", "rank4", "bon_avg"):
        assert not rows[key].significant and rows[key].p_value == 1.0, key
    assert "LongQA" in comparison_markdown(comparison).split("Significant after Holm:")[1]


def test_identical_runs_flag_nothing(run_a: Run) -> None:
    comparison = compare_runs(run_a, run_a, iterations=ITERATIONS, seed=0)
    assert not comparison.significant()
    assert all(row.p_value == 1.0 and row.difference == 0.0 for row in comparison.rows)
    assert comparison_markdown(comparison).rstrip().endswith("Significant after Holm: none.")


def test_holm_adjusted_p_values_are_monotone_and_not_smaller(run_a: Run, run_b: Run) -> None:
    rows = compare_runs(run_a, run_b, iterations=ITERATIONS, seed=0).rows
    assert all(row.p_holm >= row.p_value for row in rows)
    ranked = sorted(rows, key=lambda r: r.p_value)
    assert [r.p_holm for r in ranked] == sorted(r.p_holm for r in ranked)
    assert {row.key for row in rows} >= {"avg", "task_longqa", "len_4k", "len_128k", "rank2", "same", "diff"}


def test_only_shared_rows_are_compared(run_a: Run, run_b: Run) -> None:
    subset = Run("B-part", [r for r in run_b.samples if r.task_file in ("LongQA", "Math")], "x", "synthetic")
    comparison = compare_runs(run_a, subset, iterations=200, seed=0)
    assert comparison.shared == EXPECTED_FILE_ROWS["LongQA"] + EXPECTED_FILE_ROWS["Math"]
    assert comparison.only_in_a == 1900 - comparison.shared and comparison.only_in_b == 0
    assert "task_summ" not in {row.key for row in comparison.rows}


def test_rows_presented_differently_are_refused(run_a: Run) -> None:
    first = run_a.samples[0]
    changed = Run(
        "C", [first.__class__(**{**first.__dict__, "order": tuple(reversed(first.order))})], "x", "x"
    )
    with pytest.raises(ReportError, match="presented differently"):
        compare_runs(run_a, changed, iterations=10)


def test_cli_compare_on_submissions(
    run_a: Run, run_b: Run, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    paths = []
    for run in (run_a, run_b):
        path = tmp_path / f"{run.name}.json"
        path.write_text(json.dumps(build_submission(run)), "utf-8")
        paths.append(str(path))
    out = tmp_path / "cmp.json"
    assert main(["compare", *paths, "--iterations", "500", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| LongQA | 240 |" in printed and "Significant after Holm:" in printed
    saved = json.loads(out.read_text("utf-8"))
    assert {row["key"] for row in saved["rows"] if row["significant"]} >= {"task_longqa"}
    assert main(["compare", paths[0], paths[0], "--iterations", "200"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("Significant after Holm: none.")


def _spec_members(key: str, record) -> bool:
    """Spec §7, written out independently: which pairwise rows each pairwise subset holds."""
    if record.tasktype != "PairWise":
        return False
    if key == "pairwise_avg":
        return True
    if key in ("same", "diff"):
        return (record.subtype == "same") == (key == "same")
    if key.startswith("task_"):
        return key == f"task_{record.task_file.lower()}"
    return key == f"len_{record.length_bucket}"


def test_mcnemar_counts_the_rows_of_each_subset(run_a: Run, run_b: Run) -> None:
    comparison = compare_runs(run_a, run_b, iterations=50, seed=0)
    rows_b = run_b.by_key()
    pairwise = [row for row in comparison.rows if row.test == MCNEMAR]
    assert {row.key for row in pairwise} >= {"pairwise_avg", "same", "diff", "task_longqa", "len_4k"}
    for row in pairwise:
        members = [(r.score, rows_b[r.key].score) for r in run_a.samples if _spec_members(row.key, r)]
        assert row.n == len(members), row.key
        assert (row.only_a, row.only_b) == (
            sum(a > b for a, b in members),
            sum(b > a for a, b in members),
        ), row.key
