"""Bootstrap, McNemar, Holm and the control baselines: fast, pure statistics tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from longrm_tasks.constants import LENGTH_BUCKETS, TASK_FILES
from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.report.baselines import CONTROLS, control_samples, random_full_document, reported_metrics
from longrm_tasks.report.reference import load_references
from longrm_tasks.report.stats import (
    bootstrap_intervals,
    holm,
    mcnemar_exact,
    metric_matrix,
    resample_counts,
    weighted_metrics,
)
from longrm_tasks.scoring import ScoredSample, aggregate

ROOT = Path(__file__).resolve().parents[1]


def synthetic_samples(n: int = 300, seed: int = 1) -> list[ScoredSample]:
    """Mixed pairwise / best-of-N samples over every task file, bucket and N."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        task = TASK_FILES[i % len(TASK_FILES)]
        bucket = LENGTH_BUCKETS[(i // 7) % len(LENGTH_BUCKETS)]
        if i % 3 == 2:
            k = (2, 3, 4)[(i // 3) % 3]
            score = rng.randrange(k + 1) / k
            samples.append(ScoredSample(task, "BestOfN", str(k), bucket, score, rng.random() > 0.1))
        else:
            subtype = "same" if i % 2 else "cross"
            samples.append(ScoredSample(task, "PairWise", subtype, bucket, float(rng.random() < 0.6), True))
    return samples


def test_replicate_metrics_equal_the_core_aggregate_on_the_resampled_rows() -> None:
    samples = synthetic_samples()
    counts = resample_counts([s.task_file for s in samples], iterations=5, seed=3)
    replicated = weighted_metrics(metric_matrix(samples), counts)
    for b in range(5):
        expanded = [s for s, c in zip(samples, counts[b], strict=True) for _ in range(int(c))]
        expected = aggregate(expanded)
        for key, value in expected.items():
            assert replicated[key][b] == pytest.approx(value, abs=1e-12), (b, key)


def test_resampling_keeps_every_task_file_size() -> None:
    samples = synthetic_samples()
    strata = [s.task_file for s in samples]
    counts = resample_counts(strata, iterations=50, seed=0)
    for task in TASK_FILES:
        members = [i for i, s in enumerate(strata) if s == task]
        assert set(counts[:, members].sum(axis=1)) == {len(members)}


def test_bootstrap_is_reproducible_with_a_seed() -> None:
    samples = synthetic_samples()
    first = bootstrap_intervals(samples, iterations=400, seed=7)
    again = bootstrap_intervals(samples, iterations=400, seed=7)
    other = bootstrap_intervals(samples, iterations=400, seed=8)
    assert first == again
    assert first != other
    point = aggregate(samples)
    for key, interval in first.items():
        assert interval.value == pytest.approx(point[key], abs=1e-12), key
        assert interval.low <= interval.value + 1e-12 and interval.value - 1e-12 <= interval.high, key
    assert first["avg"].high - first["avg"].low > 0.02


def test_constant_scores_give_a_degenerate_interval() -> None:
    samples = [ScoredSample(t, "PairWise", "same", "4k", 1.0, True) for t in TASK_FILES for _ in range(5)]
    interval = bootstrap_intervals(samples, iterations=200, seed=0)["avg"]
    assert (interval.low, interval.value, interval.high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("only_a", "only_b", "expected"),
    [(0, 0, 1.0), (5, 5, 1.0), (10, 0, 2 / 1024), (0, 10, 2 / 1024), (1, 9, 2 * 11 / 1024), (3, 1, 10 / 16)],
)
def test_mcnemar_exact(only_a: int, only_b: int, expected: float) -> None:
    assert mcnemar_exact(only_a, only_b) == pytest.approx(expected, rel=1e-12)


def test_mcnemar_matches_a_two_sided_binomial_test() -> None:
    stats = pytest.importorskip("scipy.stats")
    for a, b in [(12, 3), (40, 25), (7, 7), (100, 70)]:
        assert mcnemar_exact(a, b) == pytest.approx(stats.binomtest(a, a + b, 0.5).pvalue, rel=1e-9)


def test_holm() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_random_baselines_of_the_full_benchmark_match_the_spec() -> None:
    rows = {row["name"]: row["metrics"] for row in random_full_document()["rows"]}
    rank_match, exact = rows["random (rank-match, expected)"], rows["random (exact permutation)"]
    # Spec §7: exact-permutation chance is the paper's random row (Rank3 16.7, Rank4 4.2, Avg 37.5) ...
    assert (exact["rank3"], exact["rank4"], exact["avg"]) == pytest.approx((1 / 6, 1 / 24, 0.375))
    # ... and under the rank-match metric chance is 33.3 / 25.0 and about 43.4 overall.
    assert (rank_match["rank3"], rank_match["rank4"]) == pytest.approx((1 / 3, 1 / 4))
    assert round(100 * rank_match["avg"], 1) == 43.4
    assert rank_match["pairwise_avg"] == rank_match["len_avg"] == 0.5


def test_controls_on_the_sample_use_the_official_order() -> None:
    data = load_sample()
    first = control_samples(data, CONTROLS["always first slot"][0])
    # Always-first is right on a pairwise row exactly when slot A shows the chosen response.
    items = judge_items(data)
    assert [s.score for s in first if s.tasktype == "PairWise"] == [
        float(item.order[0] == 0) for item in items if item.tasktype == "PairWise"
    ]
    metrics = reported_metrics(control_samples(data, CONTROLS["random (rank-match, expected)"][0]))
    assert metrics["pairwise_avg"] == 0.5 and "parse_fail" not in metrics


def test_committed_reference_files_load_and_match_the_spec() -> None:
    paper = ROOT / "results" / "reference" / "paper-v2.json"
    assert "2510.06915" in json.loads(paper.read_text("utf-8"))["citation"]
    entries = load_references([paper])
    by_name = {entry.name: entry for entry in entries}
    assert by_name["Gemini 2.5 Pro"].metrics["avg"] == pytest.approx(0.409)
    assert by_name["Qwen3-8B"].metrics["len_128k"] == pytest.approx(0.252)
    assert by_name["Skywork-Reward-V2-Llama-3.1-8B + LongRM training"].metrics["rank4"] == pytest.approx(
        0.189
    )
    assert len(entries) == 8
    controls = load_references([ROOT / "results" / "reference" / "controls-sample.json"])
    expected = reported_metrics(control_samples(load_sample(), CONTROLS["longest response"][0]))
    (longest,) = [e for e in controls if e.name == "longest response"]
    assert longest.metrics == pytest.approx(expected)
    full = json.loads((ROOT / "results" / "reference" / "controls-full-random.json").read_text("utf-8"))
    assert full == json.loads(json.dumps(random_full_document()))
