"""lm-eval's printed table: the headline ``avg`` first with a stderr, subsets without rows as ``N/A``."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from pathlib import Path

import pytest
from support.subprocesses import lm_eval_command, offline_env

from longrm_tasks.constants import BEST_OF_N_SIZES, LENGTH_BUCKETS, TASK_FILES
from longrm_tasks.scoring import METRIC_REDUCERS, standard_error_of_present

TASK = "longrewardbench_sample_rm"
LIMIT = 20  # the first 20 rows of the official run order: several task files have none of them


def test_standard_error_is_the_sample_stddev_over_sqrt_n() -> None:
    values = [1.0, 0.0, None, 0.5, 1.0, None, 1 / 3]
    present = [1.0, 0.0, 0.5, 1.0, 1 / 3]
    assert standard_error_of_present(values) == pytest.approx(
        statistics.stdev(present) / math.sqrt(len(present)), rel=1e-12
    )
    assert standard_error_of_present(reversed(values)) == standard_error_of_present(values)
    with pytest.raises(ValueError, match="two or more"):
        standard_error_of_present([1.0, None])


def test_aggregations_keep_the_core_value_and_show_empty_subsets_as_na() -> None:
    from longrm_tasks.adapters.lm_eval.task import NO_ROWS, lm_eval_aggregation

    values = [0.25, None, 1.0, 0.1, 0.7]
    for name in ("avg", "task_longqa"):
        assert lm_eval_aggregation(name)(values) == METRIC_REDUCERS[name](values)
    assert lm_eval_aggregation("task_math")([None, None]) == NO_ROWS
    assert lm_eval_aggregation("len_avg")([None]) == NO_ROWS
    # Some buckets empty: L-Avg stays the official mean over all six buckets (empty ones count 0).
    assert lm_eval_aggregation("len_avg")([("4k", 1.0), None]) == pytest.approx(1 / 6)


def test_only_our_marked_aggregations_change_lm_eval_stderr() -> None:
    from lm_eval import evaluator_utils
    from lm_eval.api.metrics import mean, mean_stderr

    from longrm_tasks.adapters.lm_eval.task import lm_eval_aggregation

    lookup = evaluator_utils.stderr_for_metric
    assert lookup(metric=lm_eval_aggregation("avg"), bootstrap_iters=100) is standard_error_of_present
    assert lookup(metric=lm_eval_aggregation("avg"), bootstrap_iters=0) is None  # stderrs switched off
    assert lookup(metric=lm_eval_aggregation("pairwise_avg"), bootstrap_iters=100) is None
    assert lookup(metric=mean, bootstrap_iters=100) is mean_stderr  # lm-eval's own, untouched


@pytest.mark.slow
def test_printed_table_puts_avg_first_with_stderr_and_na_for_empty_subsets(tmp_path: Path) -> None:
    env = offline_env()
    command = [
        *lm_eval_command(), "--model", "dummy", "--tasks", TASK, "--limit", str(LIMIT),
        "--output_path", "out", "--log_samples",
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    (results_path,) = tmp_path.glob("out/*/results_*.json")
    (samples_path,) = tmp_path.glob(f"out/*/samples_{TASK}_*.jsonl")
    reported = json.loads(results_path.read_text("utf-8"))["results"][TASK]
    samples = [json.loads(line) for line in samples_path.read_text("utf-8").splitlines() if line.strip()]
    assert len(samples) == LIMIT

    # The headline: the exact micro mean, and the standard error of that mean, computed here.
    scores = [sample["avg"] for sample in samples]
    assert reported["avg,none"] == math.fsum(scores) / len(scores)
    expected_stderr = statistics.stdev(scores) / math.sqrt(len(scores))
    assert expected_stderr > 0
    assert reported["avg_stderr,none"] == pytest.approx(expected_stderr, rel=1e-12)

    # Subsets that none of these rows fall in, derived from the logged documents.
    docs = [sample["doc"] for sample in samples]
    pairwise = [doc for doc in docs if doc["tasktype"] == "PairWise"]
    best_of_n = [doc for doc in docs if doc["tasktype"] == "BestOfN"]
    empty = {f"task_{name.lower()}" for name in TASK_FILES} - {
        f"task_{doc['task_file'].lower()}" for doc in pairwise
    }
    empty |= {f"rank{n}" for n in BEST_OF_N_SIZES} - {f"rank{doc['subtype']}" for doc in best_of_n}
    buckets = {doc["length_bucket"] for doc in pairwise}
    empty |= {f"len_{bucket}" for bucket in LENGTH_BUCKETS if bucket not in buckets}
    assert empty, "the limit should leave some subsets without rows"
    for name in METRIC_REDUCERS:
        if f"{name},none" in reported:
            assert (reported[f"{name},none"] == "N/A") == (name in empty), name

    # The printed table: avg is the first metric row, with its stderr; empty subsets read N/A.
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.startswith("|") and "|none" in line]
    cells = [[cell.strip() for cell in row] for row in rows]
    metric_rows = {row[5]: row for row in cells}
    assert cells[0][5] == "avg"
    assert cells[0][7] == f"{reported['avg,none']:.4f}" and cells[0][9] == f"{expected_stderr:.4f}"
    for name in empty:
        assert metric_rows[name][7] == "N/A", metric_rows[name]
