"""Control baselines computed from the data alone, with the benchmark's own scorer.

- ``random (rank-match, expected)``: expected score of a uniformly random ranking under the spec §7
  metric — the exact mean of ``sample_score`` over all N! predictions of each row.
- ``random (exact permutation)``: the paper's convention: a row counts only when the whole ranking is
  right (probability 1/N!). The paper prints Rank3 16.7, Rank4 4.2, Avg 37.5 for it.
- ``always first slot``: slot A ranked first, then B, C, D in presented order.
- ``longest response`` / ``shortest response``: slots ranked by character length (ties: earlier slot).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..constants import (
    BEST_OF_N,
    BEST_OF_N_SIZES,
    EXPECTED_BEST_OF_N_ROWS_PER_N,
    EXPECTED_PAIRWISE_ROWS,
    LENGTH_BUCKETS,
    PAIRWISE,
)
from ..data import BenchmarkData
from ..order import presentation_orders, presented_slots
from ..parsing import ranks_from_rewards
from ..results.records import metric_counts
from ..results.reference import REFERENCE_SCHEMA
from ..scoring import PAPER_COLUMNS, ScoredSample, aggregate, exact_match, sample_score

#: A control: (gold rank of each slot, presented texts) → expected per-sample score.
Strategy = Callable[[Sequence[int], Sequence[str]], float]


def _permutations(k: int) -> list[tuple[int, ...]]:
    return list(itertools.permutations(range(k)))


def random_rank_match(order: Sequence[int], texts: Sequence[str]) -> float:
    predictions = _permutations(len(order))
    return sum(sample_score(order, p) for p in predictions) / len(predictions)


def random_exact(order: Sequence[int], texts: Sequence[str]) -> float:
    predictions = _permutations(len(order))
    return sum(exact_match(order, p) for p in predictions) / len(predictions)


def first_slot(order: Sequence[int], texts: Sequence[str]) -> float:
    return sample_score(order, list(range(len(order))))


def longest(order: Sequence[int], texts: Sequence[str]) -> float:
    return sample_score(order, ranks_from_rewards([float(len(text)) for text in texts]))


def shortest(order: Sequence[int], texts: Sequence[str]) -> float:
    return sample_score(order, ranks_from_rewards([-float(len(text)) for text in texts]))


CONTROLS: dict[str, tuple[Strategy, str]] = {
    "random (rank-match, expected)": (random_rank_match, "expected value of a uniformly random ranking"),
    "random (exact permutation)": (random_exact, "the paper's convention: the whole ranking must be right"),
    "always first slot": (first_slot, "A > B > C > D as presented"),
    "longest response": (longest, "slots ranked by character length, longest first"),
    "shortest response": (shortest, "slots ranked by character length, shortest first"),
}


def control_samples(data: BenchmarkData, strategy: Strategy) -> list[ScoredSample]:
    """Per-row expected scores of ``strategy`` over every row, in the official presentation order."""
    samples = []
    for task_file, rows in data.rows.items():
        for index, order in presentation_orders(rows):
            row = rows[index]
            samples.append(
                ScoredSample(
                    task_file=task_file,
                    tasktype=row["tasktype"],
                    subtype=str(row["subtype"]),
                    length_bucket=row["ctx_length_for_length"],
                    score=strategy(order, presented_slots(row, order)),
                    parsed=True,
                )
            )
    return samples


def reported_metrics(samples: Sequence[ScoredSample]) -> dict[str, float]:
    """Aggregates of the paper's metrics that have rows (the run-health additions left out)."""
    counts = metric_counts(samples)
    keys = [key for key in PAPER_COLUMNS.values() if counts.get(key)]
    return aggregate(samples, keys)


def controls_document(data: BenchmarkData, scope: str) -> dict[str, Any]:
    """A ``longrm-reference/1`` document with every control computed on ``data``."""
    return {
        "schema": REFERENCE_SCHEMA,
        "kind": "control",
        "scope": scope,
        "citation": "computed by longrm-tasks from the data with the benchmark's scorer (spec §7)",
        "scale": 1,
        "data": data.provenance(),
        "rows": [
            {"name": name, "note": note, "metrics": reported_metrics(control_samples(data, strategy))}
            for name, (strategy, note) in CONTROLS.items()
        ],
    }


def count_skeleton() -> list[tuple[str, str, str, str, int]]:
    """(task file, tasktype, subtype, bucket, slots) per row of the full benchmark, from spec §1 counts.

    Only the counts per format and N are real; buckets and pair kinds are spread round-robin, which
    does not change any random baseline (every pairwise subset has chance 1/2 whatever its size).
    """
    rows = []
    for task_file, count in EXPECTED_PAIRWISE_ROWS.items():
        for i in range(count):
            rows.append((task_file, PAIRWISE, "same" if i % 2 else "cross", LENGTH_BUCKETS[i % 6], 2))
    for n in BEST_OF_N_SIZES:
        for i in range(EXPECTED_BEST_OF_N_ROWS_PER_N):
            rows.append(("LongQA", BEST_OF_N, str(n), LENGTH_BUCKETS[i % 6], n))
    return rows


def random_full_document() -> dict[str, Any]:
    """Random baselines on the full benchmark (1,900 rows), which depend only on the spec §1 counts."""
    out = []
    for name in ("random (rank-match, expected)", "random (exact permutation)"):
        strategy, note = CONTROLS[name]
        samples = [
            ScoredSample(task_file, tasktype, subtype, bucket, strategy(list(range(k)), [""] * k), True)
            for task_file, tasktype, subtype, bucket, k in count_skeleton()
        ]
        out.append({"name": name, "note": note, "metrics": reported_metrics(samples)})
    return {
        "schema": REFERENCE_SCHEMA,
        "kind": "control",
        "scope": "full",
        "citation": "computed by longrm-tasks from the spec §1 row counts with the benchmark's scorer",
        "scale": 1,
        "rows": out,
    }
