"""Submissions built from runs (a submission is read back as a run by :func:`.loaders.read_file`).

A run whose judge returned empty text for some rows is not turned into a submission unless the user
says so (``allow_empty_outputs``): an empty output is usually a transport failure (an API that
answered HTTP 200 with an error body), and scoring it 0 would rank the network, not the judge.
"""

from __future__ import annotations

from typing import Any

from ..constants import TASK_FILES
from ..scoring import CONTEXT_CUT_METRIC
from .records import ReportError, Run
from .submission_schema import SCHEMA_VERSION


def empty_outputs(run: Run) -> int:
    """How many of the run's judge outputs were empty text."""
    return sum(record.empty_output for record in run.samples)


def build_submission(
    run: Run, model_type: str = "generative", name: str | None = None, *, allow_empty_outputs: bool = False
) -> dict[str, Any]:
    """A ``longrm-submission/1`` document from a run's records (responses kept when known).

    Refused (:class:`ReportError`) when some judge outputs are empty, unless ``allow_empty_outputs``:
    then the document declares it, and validate and the leaderboard show the count.
    """
    empty = empty_outputs(run)
    if empty and not allow_empty_outputs:
        raise ReportError(
            f"{run.name}: {empty} of {len(run.samples)} judge outputs are empty (an API failure is not a "
            "judgement: check the backend and rerun those rows); --allow-empty-outputs submits them "
            "anyway, and the submission says so"
        )
    provenance = {key: value for key, value in run.provenance.items() if value is not None}
    if str(provenance.get("data_source", "")).startswith("local:"):
        provenance["data_source"] = "local"  # the folder is a machine path: not part of a submission
    provenance.setdefault("harness", run.harness)
    for required in ("prompt_set", "order_seed", "data_source", "data_files_sha256"):
        provenance.setdefault(required, None)
    if provenance["data_files_sha256"] is None:
        provenance["data_files_sha256"] = {}
    samples = []
    for record in sorted(run.samples, key=lambda r: (TASK_FILES.index(r.task_file), r.row_index)):
        sample: dict[str, Any] = {
            "task_file": record.task_file,
            "row_index": record.row_index,
            "row_id": record.row_id,
            "tasktype": record.tasktype,
            "subtype": record.subtype,
            "length_bucket": record.length_bucket,
            "order": list(record.order),
            "truncation": record.truncation,
        }
        if record.response is not None:
            sample["response"] = record.response
        sample["prediction"] = list(record.prediction)
        sample["score"] = record.score
        samples.append(sample)
    counts = run.counts()
    # Submission samples carry no context cut (a context-only run is not parity), so that share is left out.
    aggregates = {
        key: value
        for key, value in run.aggregates().items()
        if (counts.get(key) or key == "avg") and key != CONTEXT_CUT_METRIC
    }
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "model": {"name": name or run.name, "type": model_type},
        "provenance": provenance,
        "task": run.task,
    }
    if allow_empty_outputs:
        document["allow_empty_outputs"] = True
    return {**document, "aggregates": aggregates, "samples": samples}


__all__ = ["build_submission", "empty_outputs"]
