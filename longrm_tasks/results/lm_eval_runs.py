"""Loading lm-eval outputs: ``results_<ts>.json`` and the per-sample ``--log_samples`` files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..parsing import ranks_from_rewards
from ..scoring import METRIC_REDUCERS
from .parts import join_parts
from .provenance import lm_eval_provenance, model_name
from .records import (
    TOLERANCE,
    ReportError,
    Run,
    SampleRecord,
    check_against_harness,
    check_records,
    record_from_prediction,
    record_from_response,
)

FILTER = "none"


def result_files(path: Path) -> list[Path]:
    """Every lm-eval results file at or below ``path``."""
    if path.is_file():
        return [path]
    return sorted(path.rglob("results_*.json"))


def longrm_tasks_of(results: dict[str, Any]) -> list[str]:
    """Tasks of a results file that are Long-RewardBench tasks (their config carries our provenance)."""
    configs = results.get("configs") or {}
    return [
        task
        for task in results.get("results") or {}
        if isinstance((configs.get(task) or {}).get("metadata"), dict)
        and "longrm" in configs[task]["metadata"]
    ]


def samples_file(results_path: Path, task: str) -> Path:
    """The per-sample log that belongs to ``results_path`` (same timestamp)."""
    stamp = results_path.stem.removeprefix("results_")
    candidate = results_path.with_name(f"samples_{task}_{stamp}.jsonl")
    if not candidate.is_file():
        raise ReportError(
            f"{results_path}: no per-sample log {candidate.name} for task {task}; "
            "rerun lm_eval with --log_samples"
        )
    return candidate


def _is_reward_doc(doc: dict[str, Any]) -> bool:
    """A document of the scalar-RM tasks (``*_rm``): its result is one log-likelihood per slot."""
    return "slots" in doc and "prompt_template" in doc


def _record(doc: dict[str, Any], responses: Any, where: str) -> SampleRecord:
    """The record of one logged sample: a judge's text, or the rewards of an ``*_rm`` task's slots."""
    if not _is_reward_doc(doc):
        response = responses[0] if isinstance(responses, list) else responses
        while isinstance(response, list):  # some backends nest the response once more
            response = response[0] if response else ""
        return record_from_response(doc, str(response))
    try:  # lm-eval logs each slot's result as [log-likelihood, is_greedy]
        rewards = [float(result[0]) for result in responses]
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise ReportError(f"{where} ({doc.get('uid')}): not one reward per slot ({error})") from None
    return record_from_prediction(doc, ranks_from_rewards(rewards))


def read_sample_log(path: Path, name: str) -> list[SampleRecord]:
    """Rescore every logged sample from its doc and response; check it against the logged value."""
    records = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            doc, responses = entry["doc"], entry["filtered_resps"]
        except (ValueError, KeyError, TypeError) as error:
            raise ReportError(f"{path.name}, line {number}: not an lm-eval sample record ({error})") from None
        record = _record(doc, responses, f"{name}: {path.name}, line {number}")
        logged = entry.get("avg")
        if not isinstance(logged, (int, float)) or abs(logged - record.score) > TOLERANCE:
            raise ReportError(
                f"{name}: {path.name}, line {number} ({doc.get('uid')}): logged score {logged!r} but the "
                f"response rescores to {record.score!r}"
            )
        logged_failure = entry.get("parse_fail")
        if isinstance(logged_failure, (int, float)) and bool(logged_failure) == record.parsed:
            raise ReportError(f"{name}: {path.name}, line {number} ({doc.get('uid')}): parse_fail disagrees")
        records.append(record)
    return records


def harness_aggregates(results: dict[str, Any], task: str) -> dict[str, float]:
    """The task's aggregates as lm-eval reported them, keyed without the filter suffix."""
    reported = (results.get("results") or {}).get(task) or {}
    values = {}
    for key in METRIC_REDUCERS:
        value = reported.get(f"{key},{FILTER}")
        if isinstance(value, (int, float)):
            values[key] = float(value)
    return values


def load_lm_eval(path: str | Path, name: str | None = None) -> list[Run]:
    """One :class:`Run` per Long-RewardBench task of every results file at or below ``path``, parts that
    complete each other joined (:mod:`.parts`)."""
    path = Path(path)
    files = result_files(path)
    if not files:
        raise ReportError(f"{path}: no lm-eval results_*.json found")
    runs = []
    for results_path in files:
        try:
            results = json.loads(results_path.read_text("utf-8"))
        except ValueError as error:
            raise ReportError(f"{results_path}: not valid JSON ({error})") from None
        for task in longrm_tasks_of(results):
            label = name or model_name(results)
            run = Run(
                name=label,
                samples=read_sample_log(samples_file(results_path, task), label),
                source=str(results_path),
                harness="lm-eval",
                task=task,
                harness_aggregates=harness_aggregates(results, task),
                provenance=lm_eval_provenance(results, task),
            )
            expected = ((results.get("n-samples") or {}).get(task) or {}).get("effective")
            if expected is not None and expected != len(run.samples):
                raise ReportError(f"{label}: results say {expected} samples, the log has {len(run.samples)}")
            check_records(run)
            check_against_harness(run)
            runs.append(run)
    if not runs:
        raise ReportError(f"{path}: the results files hold no Long-RewardBench task")
    runs = join_parts(runs)
    apart = [any(o.name == r.name and o.task != r.task for o in runs) for r in runs]
    for run, tagged in zip(runs, apart, strict=True):  # parts that stayed apart say which task they are
        if tagged:
            run.name = f"{run.name} [{run.task}]"
    return runs
