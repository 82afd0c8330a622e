"""Bootstrap confidence intervals, paired tests and the Holm correction.

Resampling is stratified by task file (each file keeps its row count), seeded, and vectorised: a
replicate is a vector of draw counts per sample (a multinomial per stratum), and every metric of a
replicate is computed from those counts with exactly the reducers of :mod:`longrm_tasks.scoring`
(micro means over the samples that count, 0 when none do; L-Avg the mean of the six bucket means).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..constants import LENGTH_BUCKETS
from ..scoring import METRIC_REDUCERS, ScoredSample, length_metric, metric_inputs

DEFAULT_ITERATIONS = 2000
DEFAULT_SEED = 0
LEVEL = 0.95
#: Every metric except L-Avg is a micro mean; L-Avg is derived from the bucket means.
MEAN_METRICS = tuple(key for key in METRIC_REDUCERS if key != "len_avg")


def metric_matrix(samples: Sequence[ScoredSample]) -> tuple[np.ndarray, np.ndarray]:
    """``values`` and ``present`` (metrics × samples) from :func:`~longrm_tasks.scoring.metric_inputs`."""
    values = np.zeros((len(MEAN_METRICS), len(samples)))
    present = np.zeros((len(MEAN_METRICS), len(samples)))
    for column, sample in enumerate(samples):
        inputs = metric_inputs(sample)
        for row, key in enumerate(MEAN_METRICS):
            if inputs[key] is not None:
                values[row, column] = inputs[key]
                present[row, column] = 1.0
    return values, present


def resample_counts(strata: Sequence[str], iterations: int, seed: int) -> np.ndarray:
    """Draw counts (iterations × samples): each stratum resampled with replacement to its own size."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(strata)
    counts = np.zeros((iterations, len(labels)))
    for label in sorted(set(strata)):
        members = np.flatnonzero(labels == label)
        counts[:, members] = rng.multinomial(
            len(members), np.full(len(members), 1 / len(members)), size=iterations
        )
    return counts


def weighted_metrics(values: np.ndarray, present: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric for each row of ``counts`` (a row of ones gives the plain aggregates)."""
    sums = counts @ (values * present).T
    totals = counts @ present.T
    means = sums / np.maximum(totals, 1.0)
    result = {key: means[:, row] for row, key in enumerate(MEAN_METRICS)}
    result["len_avg"] = np.mean([result[length_metric(bucket)] for bucket in LENGTH_BUCKETS], axis=0)
    return result


@dataclass(frozen=True)
class Interval:
    """A point estimate and its percentile bootstrap interval."""

    value: float
    low: float
    high: float


def bootstrap_intervals(
    samples: Sequence[ScoredSample],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
    level: float = LEVEL,
) -> dict[str, Interval]:
    """Percentile CIs of every metric, resampling within task files. Samples should be in a fixed order."""
    values, present = metric_matrix(samples)
    point = weighted_metrics(values, present, np.ones((1, len(samples))))
    replicates = weighted_metrics(
        values, present, resample_counts([s.task_file for s in samples], iterations, seed)
    )
    tail = (1 - level) / 2 * 100
    result = {}
    for key, estimate in point.items():
        low, high = np.percentile(replicates[key], [tail, 100 - tail])
        result[key] = Interval(float(estimate[0]), float(low), float(high))
    return result


@dataclass(frozen=True)
class PairedDifference:
    """A − B for one metric on shared rows: estimate, interval and two-sided bootstrap p-value."""

    difference: float
    low: float
    high: float
    p_value: float


def paired_bootstrap(
    samples_a: Sequence[ScoredSample],
    samples_b: Sequence[ScoredSample],
    *,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
    level: float = LEVEL,
) -> dict[str, PairedDifference]:
    """Paired bootstrap of every metric's difference; ``samples_a[i]`` and ``samples_b[i]`` share a row.

    The p-value is the share of centred replicate differences at least as far from zero as the
    observed one, ``(1 + #{|d* - d| >= |d|}) / (B + 1)``; it is 1 when the observed difference is 0.
    """
    if len(samples_a) != len(samples_b):
        raise ValueError("paired samples must have the same length")
    values_a, present = metric_matrix(samples_a)
    values_b, _ = metric_matrix(samples_b)
    ones = np.ones((1, len(samples_a)))
    counts = resample_counts([s.task_file for s in samples_a], iterations, seed)
    point_a, point_b = weighted_metrics(values_a, present, ones), weighted_metrics(values_b, present, ones)
    reps_a, reps_b = weighted_metrics(values_a, present, counts), weighted_metrics(values_b, present, counts)
    tail = (1 - level) / 2 * 100
    result = {}
    for key in point_a:
        observed = float(point_a[key][0] - point_b[key][0])
        replicate = reps_a[key] - reps_b[key]
        low, high = np.percentile(replicate, [tail, 100 - tail])
        if abs(observed) <= 1e-12:
            p_value = 1.0
        else:
            extreme = int(np.sum(np.abs(replicate - observed) >= abs(observed) - 1e-12))
            p_value = (1 + extreme) / (iterations + 1)
        result[key] = PairedDifference(observed, float(low), float(high), p_value)
    return result


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs (A right only, B right only)."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1))
    return min(1.0, 2 * tail / 2**n)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given)."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
