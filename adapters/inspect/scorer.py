"""The Long-RewardBench scorer and metric for Inspect: the core's parsing, scoring and reducers.

The scorer's value is the core's per-sample metric dict (:func:`longrm_tasks.scoring.metric_inputs`) for
the task's metric keys, ``None`` where a sample does not count, with the L-Avg. pair given as its score
(Inspect score values hold scalars only). The metric is ``unreduced``: Inspect's epoch reducer would turn
each ``None`` into 0 and drag every subset mean down. It returns one figure per key (Inspect logs and
prints each), reduced over all samples with the core's reducers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, metric, scorer
from inspect_ai.solver import TaskState

from longrm_tasks.run import refuse_empty_output
from longrm_tasks.scoring import (
    EXACT_MATCH_REDUCERS,
    METRIC_REDUCERS,
    exact_match_inputs,
    metric_inputs,
    paired_inputs,
    scalar_inputs,
    score_judged_doc,
)

#: Every reducer a Long-RewardBench Inspect task may report (the paper's columns, run health, and the
#: labelled exact-match accuracy of the no-context control).
REDUCERS = {**METRIC_REDUCERS, **EXACT_MATCH_REDUCERS}
#: What strict mode says to do after an empty judge output.
RETRY_HINT = "`inspect eval-retry <log>` then re-runs only the unfinished samples"


@metric(scores="unreduced")
def longrm_figures() -> Metric:
    """Every figure of the task: the keys of the scorer's values, each reduced by the core."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        inputs = [
            paired_inputs(dict(score.score.value), (score.sample_metadata or {}).get("length_bucket", ""))
            for score in scores
            if isinstance(score.score.value, dict)
        ]
        keys = list(inputs[0]) if inputs else []
        return {key: REDUCERS[key](values.get(key) for values in inputs) for key in keys}

    return compute


@scorer(metrics=[longrm_figures()])
def longrm_verdict(keys: Sequence[str], strict: bool = False, exact_match: bool = False) -> Scorer:
    """Parse the judge's verdict (spec §4) and score it against the presented order (spec §7).

    Args:
        keys: The task's metric keys (:func:`longrm_tasks.scoring.metric_keys`).
        strict: Stop on an empty judge output (a swallowed API failure) instead of scoring it 0.
        exact_match: Add the exact-match best-of-N accuracy (a labelled addition of the controls).
    """
    wanted = list(keys)

    async def score(state: TaskState, target: Target) -> Score:
        doc: dict[str, Any] = state.metadata
        prediction, sample = score_judged_doc(doc, state.output.completion)
        refuse_empty_output(sample.empty_output, doc["uid"], strict, RETRY_HINT)
        values = metric_inputs(sample)
        if exact_match:
            values.update(exact_match_inputs(doc["tasktype"], doc["subtype"], doc["order"], prediction))
        scalars = scalar_inputs(values)
        return Score(
            value={key: scalars[key] for key in wanted},
            answer=json.dumps(prediction),
            metadata={"prediction": prediction, "parsed": sample.parsed, "empty_output": sample.empty_output},
        )

    return score
