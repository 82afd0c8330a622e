"""Per-sample scores and every aggregate of spec §7.

One path serves every harness: :func:`metric_inputs` turns a scored sample into per-metric values
(``None`` where the sample does not count for that metric), and the reducers in
:data:`METRIC_REDUCERS` aggregate them. lm-eval calls the reducers as its aggregations; OpenCompass
and the reports call :func:`aggregate`, which uses exactly the same two steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .constants import BEST_OF_N, BEST_OF_N_SIZES, LENGTH_BUCKETS, PAIRWISE, TASK_FILES
from .parsing import parse_verdict, ranks_from_rewards
from .truncation import NOT_CUT, PARITY_CUT_STATUSES, UNCHECKED


def sample_score(gold: Sequence[int], prediction: Sequence[int]) -> float:
    """Rank-match ratio: matching positions over ``len(gold)``; 0 for an unparsed prediction."""
    if not prediction:
        return 0.0
    return sum(int(g == p) for g, p in zip(gold, prediction, strict=False)) / len(gold)


@dataclass(frozen=True)
class ScoredSample:
    """What the aggregates need to know about one judged row."""

    task_file: str
    tasktype: str
    subtype: str
    length_bucket: str
    score: float
    parsed: bool
    truncation: str = NOT_CUT
    empty_output: bool = False
    context_cut: bool = False


def task_metric(task_file: str) -> str:
    """Metric key of a task file's pairwise accuracy, e.g. ``task_longqa``."""
    return f"task_{task_file.lower()}"


def length_metric(bucket: str) -> str:
    """Metric key of a length bucket's pairwise accuracy, e.g. ``len_16k``."""
    return f"len_{bucket}"


#: Stable metric keys, paper column → key (documented in the README).
PAPER_COLUMNS: dict[str, str] = {
    **{task: task_metric(task) for task in TASK_FILES},
    "Same.": "same",
    "Diff.": "diff",
    "PairWise Avg.": "pairwise_avg",
    **{f"Rank{n}": f"rank{n}" for n in BEST_OF_N_SIZES},
    "Rank Avg.": "bon_avg",
    **{bucket: length_metric(bucket) for bucket in LENGTH_BUCKETS},
    "L-Avg.": "len_avg",
    "AVG.": "avg",
}
#: Beyond the paper: share of samples whose judge output could not be parsed (scored 0).
PARSE_FAILURE_METRIC = "parse_fail"
#: Beyond the paper: share of samples cut by parity truncation, and share never checked for it
#: (no tokenizer known, e.g. an API model without ``tokenizer=`` in its model_args).
TRUNCATION_METRICS = ("truncated", "trunc_unchecked")
#: Beyond the paper: share of samples whose judge output was empty (a backend that swallowed an
#: API failure returns ""); such samples score 0 like any unparsed output, and are counted here.
EMPTY_OUTPUT_METRIC = "empty_output"
#: Beyond the paper, context-only truncation only: share of samples whose context was cut to fit.
CONTEXT_CUT_METRIC = "context_cut"


def mean_of_present(values: Iterable[Any]) -> float:
    """Micro mean over the samples that count (non-``None``); 0.0 when none do, as officially.

    The sum is exactly rounded (``math.fsum``), so the figure does not depend on the order in which a
    harness gathers its samples (one process or several, one worker or several).
    """
    present = [value for value in values if value is not None]
    return math.fsum(present) / max(len(present), 1)


def standard_error_of_present(values: Iterable[Any]) -> float:
    """Standard error of :func:`mean_of_present`: sample standard deviation / sqrt(n).

    The usual estimate for a mean (lm-eval's ``mean_stderr``), with exactly rounded sums so that it
    does not depend on gather order either. Needs two or more counted samples.
    """
    present = [value for value in values if value is not None]
    n = len(present)
    if n < 2:
        raise ValueError(f"a standard error needs two or more samples, got {n}")
    mean = math.fsum(present) / n
    return math.sqrt(math.fsum((value - mean) ** 2 for value in present) / (n - 1) / n)


def length_bucket_average(values: Iterable[Any]) -> float:
    """L-Avg: unweighted mean of the six length-bucket means (``(bucket, score)`` inputs)."""
    by_bucket: dict[str, list[float]] = {bucket: [] for bucket in LENGTH_BUCKETS}
    for value in values:
        if value is not None:
            bucket, score = value
            by_bucket[bucket].append(score)
    return sum(mean_of_present(scores) for scores in by_bucket.values()) / len(LENGTH_BUCKETS)


def _in(value: bool, score: float) -> float | None:
    return score if value else None


def metric_inputs(sample: ScoredSample) -> dict[str, Any]:
    """Per-metric value of one sample for every metric key (``None`` = not counted)."""
    pairwise = sample.tasktype == PAIRWISE
    bon = sample.tasktype == BEST_OF_N
    score = sample.score
    values: dict[str, Any] = {"avg": score}
    for task in TASK_FILES:
        values[task_metric(task)] = _in(pairwise and sample.task_file == task, score)
    values["same"] = _in(pairwise and sample.subtype == "same", score)
    values["diff"] = _in(pairwise and sample.subtype != "same", score)
    values["pairwise_avg"] = _in(pairwise, score)
    for n in BEST_OF_N_SIZES:
        values[f"rank{n}"] = _in(bon and sample.subtype == str(n), score)
    values["bon_avg"] = _in(bon, score)
    for bucket in LENGTH_BUCKETS:
        values[length_metric(bucket)] = _in(pairwise and sample.length_bucket == bucket, score)
    values["len_avg"] = (sample.length_bucket, score) if pairwise else None
    values[PARSE_FAILURE_METRIC] = 0.0 if sample.parsed else 1.0
    values["truncated"] = 1.0 if sample.truncation in PARITY_CUT_STATUSES else 0.0
    values["trunc_unchecked"] = 1.0 if sample.truncation == UNCHECKED else 0.0
    values[EMPTY_OUTPUT_METRIC] = 1.0 if sample.empty_output else 0.0
    values[CONTEXT_CUT_METRIC] = 1.0 if sample.context_cut else 0.0
    return values


#: Metric keys whose per-sample value is a ``(length bucket, score)`` pair (L-Avg. averages per bucket).
PAIRED_METRICS = ("len_avg",)


def scalar_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Per-sample values with each ``(length bucket, score)`` pair given as its score, for harnesses whose
    per-sample values hold numbers only (Inspect); :func:`paired_inputs` rebuilds the pairs."""
    return {key: value[1] if isinstance(value, tuple) else value for key, value in values.items()}


def paired_inputs(values: Mapping[str, Any], length_bucket: str) -> dict[str, Any]:
    """The per-sample values of :func:`scalar_inputs` back in reducer form, for a sample of
    ``length_bucket``."""
    return {
        key: (length_bucket, value) if key in PAIRED_METRICS and value is not None else value
        for key, value in values.items()
    }


#: Aggregation of each metric key over the per-sample values of :func:`metric_inputs`.
METRIC_REDUCERS: dict[str, Callable[[Iterable[Any]], float]] = {
    key: (length_bucket_average if key == "len_avg" else mean_of_present)
    for key in [
        *PAPER_COLUMNS.values(),
        PARSE_FAILURE_METRIC,
        *TRUNCATION_METRICS,
        EMPTY_OUTPUT_METRIC,
        CONTEXT_CUT_METRIC,
    ]
}

#: Metrics that only involve pairwise rows / best-of-N rows (for format-restricted tasks).
PAIRWISE_METRICS = tuple(
    key
    for key in METRIC_REDUCERS
    if key.startswith(("task_", "len_")) or key in ("same", "diff", "pairwise_avg")
)
BEST_OF_N_METRICS = (*(f"rank{n}" for n in BEST_OF_N_SIZES), "bon_avg")
#: Run-health figures a generative judge's task reports next to the paper's columns.
JUDGE_EXTRA_METRICS = (PARSE_FAILURE_METRIC, EMPTY_OUTPUT_METRIC, *TRUNCATION_METRICS)
#: Metrics where lower is better (the run-health shares); every paper column is higher-is-better.
LOWER_IS_BETTER = frozenset((*JUDGE_EXTRA_METRICS, CONTEXT_CUT_METRIC))


def metric_keys(formats: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """Metrics a task over ``formats`` reports: the headline ``avg`` first, the columns that have rows
    in those formats, then ``extra``."""
    keys = ["avg"]
    if PAIRWISE in formats:
        keys += PAIRWISE_METRICS
    if BEST_OF_N in formats:
        keys += BEST_OF_N_METRICS
    return [*keys, *extra]


def _scored(prediction: list[int], order: Sequence[int], **fields: Any) -> ScoredSample:
    return ScoredSample(score=sample_score(order, prediction), parsed=bool(prediction), **fields)


def score_output(
    output: str,
    *,
    task_file: str,
    tasktype: str,
    subtype: str,
    length_bucket: str,
    order: Sequence[int],
    truncation: str = NOT_CUT,
    context_cut: bool = False,
) -> tuple[list[int], ScoredSample]:
    """Parse a judge's output for one presented row and score it against the row's ``order``."""
    prediction = parse_verdict(output, tasktype)
    fields = {
        "task_file": task_file,
        "tasktype": tasktype,
        "subtype": subtype,
        "length_bucket": length_bucket,
    }
    empty = not isinstance(output, str) or not output.strip()
    scored = _scored(
        prediction, order, truncation=truncation, empty_output=empty, context_cut=context_cut, **fields
    )
    return prediction, scored


def score_rewards(
    rewards: Sequence[float],
    *,
    task_file: str,
    tasktype: str,
    subtype: str,
    length_bucket: str,
    order: Sequence[int],
    truncation: str = NOT_CUT,
) -> tuple[list[int], ScoredSample]:
    """Rank a scalar RM's rewards of the presented slots (spec §5) and score them like a verdict."""
    prediction = ranks_from_rewards(list(rewards))
    fields = {
        "task_file": task_file,
        "tasktype": tasktype,
        "subtype": subtype,
        "length_bucket": length_bucket,
    }
    return prediction, _scored(prediction, order, truncation=truncation, **fields)


#: The fields of a presented-row document (any harness) that scoring reads.
DOC_FIELDS = ("task_file", "tasktype", "subtype", "length_bucket", "order")


def score_judged_doc(doc: Mapping[str, Any], output: Any) -> tuple[list[int], ScoredSample]:
    """A judge's output for one presented-row document (its parity status and context cut included);
    a missing or non-text output scores like an empty one."""
    return score_output(
        output if isinstance(output, str) else "",
        truncation=doc.get("truncation") or UNCHECKED,
        context_cut=bool(doc.get("context_cut")),
        **{key: doc[key] for key in DOC_FIELDS},
    )


def score_rewarded_doc(doc: Mapping[str, Any], rewards: Sequence[float]) -> tuple[list[int], ScoredSample]:
    """A scalar RM's rewards of the presented slots of one document."""
    return score_rewards(
        rewards, truncation=doc.get("truncation") or NOT_CUT, **{key: doc[key] for key in DOC_FIELDS}
    )


def aggregate(samples: Iterable[ScoredSample], metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Every aggregate (or those named in ``metrics``) over ``samples``."""
    inputs = [metric_inputs(sample) for sample in samples]
    keys = list(metrics) if metrics is not None else list(METRIC_REDUCERS)
    return {key: METRIC_REDUCERS[key](values[key] for values in inputs) for key in keys}


# --------------------------------------------------------------------------------------------
# Addition (labelled, not a paper column): exact-match accuracy of best-of-N rankings
# --------------------------------------------------------------------------------------------

#: Beyond the paper: share of best-of-N rows whose whole ranking is right (exact-permutation
#: accuracy, the measure behind the paper's "random" row). The official metric stays the
#: rank-match ratio (``rank2`` … ``bon_avg``).
EXACT_MATCH_METRICS = ("bon_exact", *(f"rank{n}_exact" for n in BEST_OF_N_SIZES))


def exact_match(gold: Sequence[int], prediction: Sequence[int]) -> float:
    """1.0 when the predicted rank of every slot equals the gold rank, else 0.0."""
    return 1.0 if prediction and list(prediction) == list(gold) else 0.0


def exact_match_inputs(
    tasktype: str, subtype: str, gold: Sequence[int], prediction: Sequence[int]
) -> dict[str, float | None]:
    """Per-metric values of :data:`EXACT_MATCH_METRICS` for one sample (``None`` = not counted)."""
    bon = tasktype == BEST_OF_N
    value = exact_match(gold, prediction)
    values: dict[str, float | None] = {"bon_exact": value if bon else None}
    for n in BEST_OF_N_SIZES:
        values[f"rank{n}_exact"] = value if bon and str(subtype) == str(n) else None
    return values


#: Aggregations of :data:`EXACT_MATCH_METRICS` (micro means, like the paper's columns).
EXACT_MATCH_REDUCERS: dict[str, Callable[[Iterable[Any]], float]] = {
    key: mean_of_present for key in EXACT_MATCH_METRICS
}
