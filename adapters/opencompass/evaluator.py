"""OpenCompass evaluator: parses and scores judge outputs with the core, aggregates every spec §7 figure.

The figures are the core's :func:`~longrm_tasks.scoring.aggregate` (the same reducers the lm-eval tasks
use, over the samples in the same order), multiplied by ``scale`` (100 by default: OpenCompass's and the
paper's percent convention; ``scale=1`` gives the fractions lm-eval reports).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opencompass.openicl.icl_evaluator import BaseEvaluator

from longrm_tasks.constants import BEST_OF_N, PAIRWISE, TASK_TYPES
from longrm_tasks.errors import LongRMError
from longrm_tasks.scoring import (
    BEST_OF_N_METRICS,
    EMPTY_OUTPUT_METRIC,
    PAIRWISE_METRICS,
    PARSE_FAILURE_METRIC,
    TRUNCATION_METRICS,
    aggregate,
    score_output,
    score_rewards,
)
from longrm_tasks.truncation import CUT, NOT_CUT, UNCHECKED

from .datasets import provenance_of, strict_mode
from .inferencer import CUT_MIDDLE

#: Beyond the paper and lm-eval: share of samples whose context was cut to fit (``over_length='middle'``).
CUT_TO_FIT_METRIC = "cut_to_fit"


#: Metrics beyond the paper's columns, as the lm-eval judge tasks report them.
EXTRA_METRICS = (PARSE_FAILURE_METRIC, EMPTY_OUTPUT_METRIC, *TRUNCATION_METRICS)


class EmptyJudgeOutputError(LongRMError):
    """Strict mode: the backend returned no text for a sample (often a swallowed API failure)."""


def metric_names(formats: Sequence[str], extra: Sequence[str] = EXTRA_METRICS) -> list[str]:
    """Core metrics reported for a dataset over ``formats`` (the lm-eval tasks' keys and order)."""
    names = ["avg"]
    if PAIRWISE in formats:
        names += PAIRWISE_METRICS
    if BEST_OF_N in formats:
        names += BEST_OF_N_METRICS
    return [*names, *extra]


class LongRewardBenchEvaluator(BaseEvaluator):
    """Scores generative-judge outputs (spec §4 parsing, §7 scoring and aggregation).

    Needs the ``truncation`` field that :class:`~.inferencer.LongRMGenInferencer` writes per prediction.
    In strict mode (``strict=True`` or ``$LONGRM_STRICT``) an empty judge output is an error.
    """

    def __init__(
        self,
        formats: Sequence[str] = TASK_TYPES,
        scale: float = 100.0,
        strict: bool | None = None,
        pred_postprocessor: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(pred_postprocessor=pred_postprocessor)
        self.formats = list(formats)
        self.scale = scale
        self.strict = strict_mode(strict)

    def evaluate(self, k: Any, n: int, original_dataset: Any, **score_kwargs: Any) -> dict[str, Any]:
        """OpenCompass's evaluation, with plain per-sample ``details`` (not one-element lists) and the
        provenance as a dict when there is a single run per sample (``n == 1``)."""
        result = super().evaluate(k, n, original_dataset, **score_kwargs)
        info = result.get("longrm")
        if isinstance(info, list) and info:
            result["longrm"] = info[0]
        if n == 1 and isinstance(result.get("details"), list):
            result["details"] = [
                {
                    key: value[0] if isinstance(value, list) and len(value) == 1 else value
                    for key, value in detail.items()
                }
                for detail in result["details"]
            ]
        return result

    def score(
        self,
        predictions: list[Any],
        references: list[Any],
        test_set: Any,
        truncation: list[str | None],
    ) -> dict[str, Any]:
        """Every metric of this dataset's formats, ``details`` per sample and the data provenance."""
        if len(predictions) != len(test_set):
            return {"error": f"{len(predictions)} predictions for {len(test_set)} samples"}
        samples, details = [], []
        for row, output, status in zip(test_set, predictions, truncation, strict=True):
            text = output if isinstance(output, str) else ""
            status = status or UNCHECKED
            prediction, sample = score_output(
                text,
                task_file=row["task_file"],
                tasktype=row["tasktype"],
                subtype=row["subtype"],
                length_bucket=row["length_bucket"],
                order=row["order"],
                truncation=status,
            )
            if sample.empty_output and self.strict:
                raise EmptyJudgeOutputError(
                    f"{row['uid']}: the judge returned no text (a swallowed API failure?); strict mode "
                    "stops here. Fix the backend and rerun (delete this dataset's predictions file first)"
                )
            samples.append(sample)
            details.append(
                {
                    "uid": row["uid"],
                    "row_id": row["row_id"],
                    "row_index": row["row_index"],
                    "task_file": row["task_file"],
                    "tasktype": row["tasktype"],
                    "subtype": row["subtype"],
                    "length_bucket": row["length_bucket"],
                    "order": list(row["order"]),
                    "pred": prediction,
                    "score": sample.score,
                    "parsed": sample.parsed,
                    "empty_output": sample.empty_output,
                    "correct": sample.score == 1.0,
                    "truncation": status,
                    "prediction": text,
                }
            )
        names = metric_names(self.formats)
        results: dict[str, Any] = {
            name: value * self.scale for name, value in aggregate(samples, names).items()
        }
        cut = sum(sample.truncation == CUT_MIDDLE for sample in samples)
        results[CUT_TO_FIT_METRIC] = cut / max(len(samples), 1) * self.scale
        results["details"] = details
        statuses = {sample.truncation for sample in samples}
        results["longrm"] = {
            **provenance_of(test_set),
            "parity_truncation": "not applied (no tokenizer)" if statuses == {UNCHECKED} else "applied",
            "strict": self.strict,
            "scale": self.scale,
            "samples": len(samples),
        }
        return results


class LongRewardBenchRMEvaluator(LongRewardBenchEvaluator):
    """Scores scalar-RM rewards (spec §5 ranking, §7 aggregation): the lm-eval ``*_rm`` tasks' metrics.

    Predictions are the rewards of the presented slots as JSON (what
    :class:`~.inferencer.LongRMRewardInferencer` writes).
    """

    def score(
        self,
        predictions: list[Any],
        references: list[Any],
        test_set: Any,
        truncation: list[str | None],
    ) -> dict[str, Any]:
        """Every metric of this dataset's formats, ``details`` per sample and the data provenance."""
        if len(predictions) != len(test_set):
            return {"error": f"{len(predictions)} predictions for {len(test_set)} samples"}
        samples, details = [], []
        for row, output, status in zip(test_set, predictions, truncation, strict=True):
            rewards = [float(value) for value in json.loads(output)]
            prediction, sample = score_rewards(
                rewards,
                task_file=row["task_file"],
                tasktype=row["tasktype"],
                subtype=row["subtype"],
                length_bucket=row["length_bucket"],
                order=row["order"],
                truncation=status or NOT_CUT,
            )
            samples.append(sample)
            details.append(
                {
                    **{key: row[key] for key in ("uid", "row_id", "row_index", "task_file", "tasktype")},
                    **{key: row[key] for key in ("subtype", "length_bucket")},
                    "order": list(row["order"]),
                    "rewards": rewards,
                    "pred": prediction,
                    "score": sample.score,
                    "correct": sample.score == 1.0,
                    "truncation": status or NOT_CUT,
                    "prediction": output,
                }
            )
        names = metric_names(self.formats, extra=())
        results: dict[str, Any] = {
            name: value * self.scale for name, value in aggregate(samples, names).items()
        }
        results["details"] = details
        results["longrm"] = {
            **provenance_of(test_set),
            "parity_truncation": "applied per sequence (spec §6)",
            "scale": self.scale,
            "samples": len(samples),
            "samples_with_a_parity_cut": sum(sample.truncation == CUT for sample in samples),
        }
        return results
