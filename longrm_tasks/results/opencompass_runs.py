"""Loading OpenCompass work-dir outputs.

Contract with the OpenCompass adapter (``adapters/opencompass``), which is what this loader reads:

- ``<work_dir>/<timestamp>/results/<model_abbr>/<dataset_abbr>.json``: the evaluator's return value,
  with its metrics under the core's metric keys (fractions or ×100) and ``details``: one entry per
  sample carrying the doc fields the lm-eval tasks log (``task_file``, ``row_index``, ``tasktype``,
  ``subtype``, ``length_bucket``, ``order``; optionally ``row_id``, ``truncation``) and the judge's
  text under ``prediction`` (the adapter's evaluator names the order ``gold`` and gives the row
  index as ``uid`` = ``<task_file>-<row_index>``: both accepted); optionally ``longrm``: the
  same provenance dict the lm-eval task records;
- or, without ``details``, ``predictions/<model_abbr>/<dataset_abbr>.json`` (``{"0": {"prediction":
  text, "gold": doc}}``, ``gold`` a dict or its JSON text).

Every sample is rescored with the core; the evaluator's metrics must match the rescored aggregates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..scoring import METRIC_REDUCERS
from .records import (
    TOLERANCE,
    ReportError,
    Run,
    SampleRecord,
    check_against_harness,
    check_records,
    record_from_response,
)

DOC_FIELDS = ("task_file", "row_index", "tasktype", "subtype", "length_bucket", "order")


def is_opencompass_dir(path: Path) -> bool:
    """Whether ``path`` looks like an OpenCompass work dir (or one of its timestamped runs)."""
    return path.is_dir() and (any(path.glob("results/*/*.json")) or any(path.glob("*/results/*/*.json")))


def _doc(entry: Any) -> dict[str, Any] | None:
    """Doc fields of a details entry or a ``gold`` value (the adapter's details name the order
    ``gold`` and carry the row index only inside ``uid``, ``<task_file>-<row_index>``)."""
    if isinstance(entry, str):
        try:
            entry = json.loads(entry)
        except ValueError:
            return None
    if not isinstance(entry, Mapping):
        return None
    doc = dict(entry)
    if "order" not in doc and isinstance(doc.get("gold"), list):
        doc["order"] = doc["gold"]
    if "row_index" not in doc:
        match = re.fullmatch(r"(\w+)-(\d+)", str(doc.get("uid", "")))
        if match and match.group(1) == doc.get("task_file"):
            doc["row_index"] = int(match.group(2))
    return doc if all(key in doc for key in DOC_FIELDS) else None


def _records_from_details(details: list[Any]) -> list[SampleRecord] | None:
    records = []
    for entry in details:
        doc = _doc(entry)
        if doc is None or not isinstance(entry, Mapping) or not isinstance(entry.get("prediction"), str):
            return None
        records.append(record_from_response(doc, entry["prediction"]))
    return records


def _records_from_predictions(path: Path) -> list[SampleRecord] | None:
    if not path.is_file():
        return None
    predictions = json.loads(path.read_text("utf-8"))
    records = []
    for key in sorted(predictions, key=lambda k: int(k) if str(k).isdigit() else str(k)):
        entry = predictions[key]
        doc = _doc(entry.get("gold")) if isinstance(entry, Mapping) else None
        if doc is None:
            return None
        records.append(record_from_response(doc, str(entry.get("prediction", ""))))
    return records


def _scaled_metrics(result: Mapping[str, Any], recomputed: Mapping[str, float]) -> dict[str, float]:
    """The evaluator's metrics as fractions (OpenCompass evaluators often report ×100)."""
    metrics = {
        key: float(value)
        for key, value in result.items()
        if key in METRIC_REDUCERS and isinstance(value, (int, float))
    }
    for scale in (1.0, 100.0):
        scaled = {key: value / scale for key, value in metrics.items()}
        if all(abs(scaled[key] - recomputed[key]) <= TOLERANCE * scale for key in scaled):
            return scaled
    return metrics


def load_opencompass(path: str | Path, name: str | None = None) -> list[Run]:
    """One :class:`Run` per (model, dataset) of Long-RewardBench found under an OpenCompass work dir."""
    path = Path(path)
    runs = []
    for result_path in sorted(path.rglob("results/*/*.json")):
        try:
            result = json.loads(result_path.read_text("utf-8"))
        except ValueError as error:
            raise ReportError(f"{result_path}: not valid JSON ({error})") from None
        if not isinstance(result, Mapping):
            continue
        model_abbr, dataset_abbr = result_path.parent.name, result_path.stem
        records = None
        if isinstance(result.get("details"), list):
            records = _records_from_details(result["details"])
        if records is None:
            prediction_path = result_path.parents[2] / "predictions" / model_abbr / f"{dataset_abbr}.json"
            records = _records_from_predictions(prediction_path)
        if records is None:
            continue  # not a Long-RewardBench dataset (or not one with per-sample data)
        label = name or model_abbr
        run = Run(
            name=f"{label} [{dataset_abbr}]",
            samples=records,
            source=str(result_path),
            harness="opencompass",
            task=dataset_abbr,
            provenance={
                "harness": "opencompass",
                "model": model_abbr,
                "task": dataset_abbr,
                **flatten_longrm(result.get("longrm")),
            },
        )
        run.harness_aggregates = _scaled_metrics(result, run.aggregates())
        check_records(run)
        check_against_harness(run)
        runs.append(run)
    if not runs:
        raise ReportError(f"{path}: no OpenCompass Long-RewardBench results with per-sample details found")
    return runs


def flatten_longrm(longrm: Any) -> dict[str, Any]:
    if not isinstance(longrm, Mapping):
        return {}
    data = longrm.get("data") or {}
    return {
        "prompt_set": longrm.get("prompt_set"),
        "prompt_set_sha256": longrm.get("prompt_set_sha256"),
        "order_seed": longrm.get("order_seed"),
        "dataset": data.get("dataset"),
        "data_source": data.get("source"),
        "data_revision": data.get("revision"),
        "data_files_sha256": data.get("files_sha256"),
        "data_rows": data.get("rows"),
        "parity_truncation": longrm.get("parity_truncation"),
        "versions": {"longrm_tasks": longrm.get("package_version")},
    }
