"""OpenCompass evaluators: judge outputs (and scalar-RM rewards) scored by the core, every spec §7 figure.

The figures are the core's :func:`~longrm_tasks.scoring.aggregate` (the same reducers the lm-eval tasks
use, over the samples in the same order), multiplied by ``scale`` (100 by default: OpenCompass's and the
paper's percent convention; ``scale=1`` gives the fractions lm-eval reports).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opencompass.openicl.icl_evaluator import BaseEvaluator

from longrm_tasks.audit import AUDIT_REDUCERS, audit_metric_inputs, audit_metric_keys, audit_sample
from longrm_tasks.constants import BEST_OF_N, TASK_TYPES
from longrm_tasks.errors import LongRMError
from longrm_tasks.options import CONTEXT_MODE, strict_mode
from longrm_tasks.run import placement_counts, refuse_empty_output
from longrm_tasks.scoring import (
    CONTEXT_CUT_METRIC,
    EXACT_MATCH_METRICS,
    EXACT_MATCH_REDUCERS,
    JUDGE_EXTRA_METRICS,
    ScoredSample,
    aggregate,
    exact_match_inputs,
    metric_keys,
    score_judged_doc,
    score_rewarded_doc,
)
from longrm_tasks.truncation import CUT, UNCHECKED

from .datasets import provenance_of

#: Per-sample fields of the details (the lm-eval tasks log the same doc fields).
DETAIL_FIELDS = ("uid", "row_id", "row_index", "task_file", "tasktype", "subtype", "length_bucket")
RESUME_HINT = "delete this dataset's predictions file first"


def _details(doc: Mapping[str, Any], ranks: list[int], sample: ScoredSample, **extra: Any) -> dict[str, Any]:
    return {
        **{key: doc[key] for key in DETAIL_FIELDS},
        "order": list(doc["order"]),
        "pred": ranks,
        "score": sample.score,
        "correct": sample.score == 1.0,
        "truncation": sample.truncation,
        **extra,
    }


class IncompletePredictionsError(LongRMError):
    """Some inference parts are missing: scoring now would save a result that ``-r`` never revisits."""


def require_every_prediction(predictions: Sequence[Any], test_set: Any) -> None:
    """Stop the evaluation (nothing saved) unless every sample has its prediction.

    OpenCompass merges the parts ``<abbr>_0.json``, ``_1.json``, ... that exist; after an interrupted
    run some are missing, and a saved error result would make ``opencompass -r`` skip this dataset's
    evaluation for good. Raising leaves no result file, so the resumed run evaluates it.
    """
    if len(predictions) != len(test_set):
        raise IncompletePredictionsError(
            f"{len(predictions)} predictions for {len(test_set)} samples: an inference part is missing or "
            "unfinished; rerun with -r to finish it (scoring resumes then)"
        )


class _Evaluator(BaseEvaluator):
    """Shared: formats, scale, strict mode, per-sample records, and OpenCompass's plain ``details``."""

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
        self.strict = strict_mode({"strict": strict})

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

    def scaled(self, figures: Mapping[str, float]) -> dict[str, Any]:
        return {name: value * self.scale for name, value in figures.items()}


def _documents(test_set: Any, records: Sequence[Any]) -> list[dict[str, Any]]:
    """The dataset rows with what the inferencer recorded about each prompt."""
    return [{**row, **(record or {})} for row, record in zip(test_set, records, strict=True)]


class LongRewardBenchEvaluator(_Evaluator):
    """Scores generative-judge outputs (spec §4 parsing, §7 scoring and aggregation).

    Needs the ``longrm`` record that :class:`~.inferencer.LongRMGenInferencer` writes per prediction. In
    strict mode (``strict=True`` or ``$LONGRM_STRICT``) an empty judge output is an error.
    ``exact_match=True`` adds the labelled exact-match best-of-N accuracy (the no-context ablation).
    """

    def __init__(self, *args: Any, exact_match: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exact_match = exact_match and BEST_OF_N in self.formats

    def score(self, predictions: list[Any], references: list[Any], test_set: Any, longrm: list[Any]) -> dict:
        """Every metric of this dataset's formats, ``details`` per sample and the data provenance."""
        require_every_prediction(predictions, test_set)
        docs = _documents(test_set, longrm)
        samples, details, exact = [], [], []
        for doc, output in zip(docs, predictions, strict=True):
            text = output if isinstance(output, str) else ""
            prediction, sample = score_judged_doc(doc, text)
            refuse_empty_output(sample.empty_output, doc["uid"], self.strict, RESUME_HINT)
            samples.append(sample)
            exact.append(exact_match_inputs(doc["tasktype"], doc["subtype"], doc["order"], prediction))
            details.append(
                _details(
                    doc,
                    prediction,
                    sample,
                    parsed=sample.parsed,
                    empty_output=sample.empty_output,
                    context_cut=sample.context_cut,
                    system_placement=doc.get("system_placement"),
                    prompt_sha256=doc.get("prompt_sha256"),
                    prediction=text,
                )
            )
        context = any(doc.get("truncation_mode") == CONTEXT_MODE for doc in docs)
        names = metric_keys(self.formats, (*JUDGE_EXTRA_METRICS, *((CONTEXT_CUT_METRIC,) if context else ())))
        results = self.scaled(aggregate(samples, names))
        if self.exact_match:
            results |= self.scaled(
                {key: EXACT_MATCH_REDUCERS[key](v[key] for v in exact) for key in EXACT_MATCH_METRICS}
            )
        first = docs[0] if docs else {}
        results["details"] = details
        results["longrm"] = {
            **provenance_of(test_set),
            "parity_truncation": first.get("parity_truncation")
            or (
                "not applied (no tokenizer)" if all(s.truncation == UNCHECKED for s in samples) else "applied"
            ),
            "truncation_mode": first.get("truncation_mode", "parity"),
            "rendering": first.get("rendering"),
            "system_placement": placement_counts(docs),
            "strict": self.strict,
            "scale": self.scale,
            "samples": len(samples),
        }
        return results


class LongRewardBenchAuditEvaluator(_Evaluator):
    """Scores a position-bias audit: each prediction holds the judge's outputs of every presentation
    variant of a row (JSON list); metrics from :mod:`longrm_tasks.audit`."""

    def score(self, predictions: list[Any], references: list[Any], test_set: Any, longrm: list[Any]) -> dict:
        require_every_prediction(predictions, test_set)
        docs = _documents(test_set, longrm)
        inputs, details = [], []
        for doc, output in zip(docs, predictions, strict=True):
            outputs = json.loads(output) if isinstance(output, str) else list(output)
            sample = audit_sample([str(text or "") for text in outputs], doc)
            inputs.append(audit_metric_inputs(sample))
            details.append(
                {**{key: doc[key] for key in DETAIL_FIELDS}, "orders": doc["orders"], "predictions": outputs}
            )
        keys = audit_metric_keys(self.formats)
        reducers: dict[str, Callable[..., float]] = AUDIT_REDUCERS
        results = self.scaled({key: reducers[key](values[key] for values in inputs) for key in keys})
        results["details"] = details
        results["longrm"] = {
            **provenance_of(test_set),
            "control": "position-bias audit (not parity)",
            "system_placement": placement_counts(docs),
            "scale": self.scale,
            "samples": len(inputs),
        }
        return results


class LongRewardBenchRMEvaluator(_Evaluator):
    """Scores scalar-RM rewards (spec §5 ranking, §7 aggregation): the lm-eval ``*_rm`` tasks' metrics.

    Predictions are the rewards of the presented slots as JSON (what
    :class:`~.inferencer.LongRMRewardInferencer` writes).
    """

    def score(self, predictions: list[Any], references: list[Any], test_set: Any, longrm: list[Any]) -> dict:
        """Every metric of this dataset's formats, ``details`` per sample and the data provenance."""
        require_every_prediction(predictions, test_set)
        samples, details = [], []
        for doc, output in zip(_documents(test_set, longrm), predictions, strict=True):
            rewards = [float(value) for value in json.loads(output)]
            prediction, sample = score_rewarded_doc(doc, rewards)
            samples.append(sample)
            details.append(_details(doc, prediction, sample, rewards=rewards, prediction=output))
        results = self.scaled(aggregate(samples, metric_keys(self.formats)))
        results["details"] = details
        results["longrm"] = {
            **provenance_of(test_set),
            "parity_truncation": "applied per sequence (spec §6)",
            "scale": self.scale,
            "samples": len(samples),
            "samples_with_a_parity_cut": sum(sample.truncation == CUT for sample in samples),
        }
        return results


__all__ = ["LongRewardBenchAuditEvaluator", "LongRewardBenchEvaluator", "LongRewardBenchRMEvaluator"]
