"""Bootstrap confidence intervals, paired tests and the Holm correction.

Resampling is stratified by task file (each file keeps its row count), seeded, and vectorised: a
replicate is a vector of draw counts per sample (a multinomial per stratum). Which samples count for
a metric, and with what value, is :func:`longrm_tasks.scoring.metric_inputs`' answer; a metric whose
reducer is the micro mean is then a weighted mean of those values (one matrix product for all
replicates), and any other reducer (L-Avg.) is applied as is to each replicate's draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import numpy as np

from ..scoring import METRIC_REDUCERS, ScoredSample, mean_of_present, metric_inputs

DEFAULT_ITERATIONS = 2000
DEFAULT_SEED = 0
LEVEL = 0.95
#: Metrics reduced by the micro mean (vectorised); the others are reduced by their own reducer.
MEAN_METRICS = tuple(key for key, reducer in METRIC_REDUCERS.items() if reducer is mean_of_present)


@dataclass
class MetricInputs:
    """Per-sample inputs of every metric: a matrix for the micro means, raw values for the rest."""

    values: np.ndarray
    present: np.ndarray
    other: dict[str, list[Any]] = field(default_factory=dict)


def metric_matrix(samples: Sequence[ScoredSample]) -> MetricInputs:
    """``values`` and ``present`` (micro-mean metrics × samples), and the raw inputs of the others."""
    values = np.zeros((len(MEAN_METRICS), len(samples)))
    present = np.zeros((len(MEAN_METRICS), len(samples)))
    other: dict[str, list[Any]] = {key: [] for key in METRIC_REDUCERS if key not in MEAN_METRICS}
    for column, sample in enumerate(samples):
        inputs = metric_inputs(sample)
        for row, key in enumerate(MEAN_METRICS):
            if inputs[key] is not None:
                values[row, column] = inputs[key]
                present[row, column] = 1.0
        for key, column_values in other.items():
            column_values.append(inputs[key])
    return MetricInputs(values, present, other)


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


def _reduced(key: str, values: list[Any], counts: np.ndarray) -> np.ndarray:
    """``METRIC_REDUCERS[key]`` over each replicate's draws (a sample drawn k times counts k times).

    Inputs are few distinct values (a bucket and a 0/1 score), so each replicate is handed to the
    reducer as every distinct value repeated by its total draw count.
    """
    distinct: dict[Any, list[int]] = {}
    for i, value in enumerate(values):
        if value is not None:
            distinct.setdefault(value, []).append(i)
    reducer = METRIC_REDUCERS[key]
    if not distinct:
        return np.full(len(counts), reducer([]))
    weights = np.stack([counts[:, members].sum(axis=1) for members in distinct.values()], axis=1)
    return np.array(
        [
            reducer(chain.from_iterable(repeat(v, int(w)) for v, w in zip(distinct, row, strict=True)))
            for row in weights
        ]
    )


def weighted_metrics(inputs: MetricInputs, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric for each row of ``counts`` (a row of ones gives the plain aggregates)."""
    sums = counts @ (inputs.values * inputs.present).T
    totals = counts @ inputs.present.T
    means = sums / np.maximum(totals, 1.0)
    result = {key: means[:, row] for row, key in enumerate(MEAN_METRICS)}
    for key, values in inputs.other.items():
        result[key] = _reduced(key, values, counts)
    return {key: result[key] for key in METRIC_REDUCERS}


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
    inputs = metric_matrix(samples)
    point = weighted_metrics(inputs, np.ones((1, len(samples))))
    replicates = weighted_metrics(inputs, resample_counts([s.task_file for s in samples], iterations, seed))
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
    inputs_a, inputs_b = metric_matrix(samples_a), metric_matrix(samples_b)
    ones = np.ones((1, len(samples_a)))
    counts = resample_counts([s.task_file for s in samples_a], iterations, seed)
    point_a, point_b = weighted_metrics(inputs_a, ones), weighted_metrics(inputs_b, ones)
    reps_a, reps_b = weighted_metrics(inputs_a, counts), weighted_metrics(inputs_b, counts)
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
