"""Submission validation: nothing in the file is executed or rendered, every figure is recomputed.

Validation reads the file as data only: size checked before reading → strict JSON (no NaN, no
duplicate keys, bounded depth, encodable text; :mod:`.jsonfile`) → JSON Schema with strict integers
(no remote references, no format plugins) → checks that recompute every score and aggregate from the
most basic per-sample data given (response text → prediction → score), compare the presentation
order with the official one wherever it can be derived, and refuse empty judge responses unless the
submission declares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..constants import BEST_OF_N_SIZES, PAIRWISE, TASK_FILES
from ..data import load_local, load_sample
from ..errors import LongRMError
from ..order import presentation_orders
from ..parsing import parse_verdict, ranks_from_rewards
from ..scoring import aggregate, sample_score
from .jsonfile import schema_findings, versioned
from .problems import Findings, short
from .records import TOLERANCE, Run, SampleRecord, record_from_prediction, record_from_response
from .submission_schema import SCHEMA_VERSION, submission_schema


@dataclass
class Validation(Findings):
    """Outcome of validating one submission (``run`` is set when it is valid)."""

    document: dict[str, Any] | None = None
    run: Run | None = None


def check_schema(document: Any, result: Findings) -> bool:
    """The version first, then the schema."""
    if not versioned(document, "schema_version", SCHEMA_VERSION, "a submission", result):
        return False
    return schema_findings(document, submission_schema(), result)


def _slots(sample: Mapping[str, Any]) -> int | None:
    if sample["tasktype"] == PAIRWISE:
        return 2
    return int(sample["subtype"]) if sample["subtype"] in {str(n) for n in BEST_OF_N_SIZES} else None


def _is_permutation(values: list[int]) -> bool:
    return sorted(values) == list(range(len(values)))


def check_sample(i: int, sample: dict[str, Any], result: Validation) -> SampleRecord | None:
    """Shape, consistency and score of one sample; its record when everything is consistent."""
    where = f"samples[{i}] ({sample['task_file']} row {sample['row_index']})"
    slots = _slots(sample)
    if slots is None:
        result.error(
            "subtype", where, f"a BestOfN row needs subtype '2', '3' or '4', got {short(sample['subtype'])}"
        )
        return None
    order = sample["order"]
    if len(order) != slots or not _is_permutation(order):
        result.error("order", where, f"order {order} is not a permutation of the {slots} presented slots")
        return None
    prediction = sample.get("prediction")
    if "response" in sample:
        parsed = parse_verdict(sample["response"], sample["tasktype"])
        if prediction is not None and list(prediction) != parsed:
            result.error(
                "prediction-mismatch", where, f"prediction {prediction} but the response parses to {parsed}"
            )
            return None
        prediction = parsed
    if "rewards" in sample:
        if len(sample["rewards"]) != slots:
            result.error("rewards", where, f"{len(sample['rewards'])} rewards for {slots} slots")
            return None
        ranked = ranks_from_rewards([float(r) for r in sample["rewards"]])
        if prediction is not None and list(prediction) != ranked:
            result.error(
                "prediction-mismatch", where, f"prediction {prediction} but the rewards rank to {ranked}"
            )
            return None
        prediction = ranked
    if prediction is not None:  # always set: the schema requires one of the three fields
        if prediction and not _is_permutation(prediction):
            result.error(
                "prediction", where, f"prediction {prediction} is not a ranking (permutation of 0..n-1)"
            )
            return None
        if sample["tasktype"] == PAIRWISE and prediction not in ([], [0, 1], [1, 0]):
            result.error(
                "prediction", where, f"a pairwise prediction is [0, 1], [1, 0] or [], got {prediction}"
            )
            return None
        score = sample_score(order, prediction)
        if "score" in sample and abs(sample["score"] - score) > TOLERANCE:
            result.error(
                "score-mismatch",
                where,
                f"score {sample['score']} but prediction {prediction} scores {score} against order {order}",
            )
            return None
        if "response" in sample:  # the canonical path: the core parses, scores and flags empty text
            return record_from_response(sample, sample["response"])
        return record_from_prediction(sample, prediction)
    raise AssertionError("the schema requires response, prediction or rewards")


def official_orders_from_skeleton(samples: list[dict[str, Any]]) -> dict[tuple[str, int], list[int]]:
    """Official orders for every task file the submission covers completely (rows 0..n-1).

    The order stream depends only on each row's slot count, so a complete file determines it.
    """
    by_file: dict[str, dict[int, dict[str, Any]]] = {}
    for sample in samples:
        by_file.setdefault(sample["task_file"], {})[sample["row_index"]] = sample
    orders = {}
    for task_file, rows in by_file.items():
        if sorted(rows) != list(range(len(rows))):
            continue
        skeleton = [
            {"tasktype": rows[i]["tasktype"], "candidates": [""] * (_slots(rows[i]) or 2)}
            for i in range(len(rows))
        ]
        for index, order in presentation_orders(skeleton):
            orders[(task_file, index)] = order
    return orders


def data_rows(
    document: dict[str, Any], data_dir: str | Path | None, result: Validation
) -> dict[str, list[dict]] | None:
    """The benchmark rows to check against: ``data_dir``, or the bundled sample when the run used it."""
    provenance = document["provenance"]
    hashes = provenance.get("data_files_sha256") or {}
    try:
        if data_dir is not None:
            data = load_local(data_dir, [t for t in TASK_FILES if f"{t}.jsonl" in hashes] or TASK_FILES)
        elif provenance.get("data_source") == "bundled-sample":
            data = load_sample()
        else:
            return None
    except LongRMError as error:
        result.error("data", "", f"cannot load the data to check against: {error}")
        return None
    for name, digest in hashes.items():
        actual = data.sha256.get(name)
        if actual is not None and actual != digest:
            result.error(
                "data-sha256",
                "$.provenance.data_files_sha256",
                f"{name} has sha256 {digest[:12]}… in the submission but {actual[:12]}… in the data "
                "checked against",
            )
    return data.rows


def check_rows(document: dict[str, Any], rows: dict[str, list[dict]] | None, result: Validation) -> None:
    """Row identity and presentation against the data (if known) or the official order stream."""
    samples = document["samples"]
    if rows is not None:
        official = {}
        for task_file, file_rows in rows.items():
            for index, order in presentation_orders(file_rows):
                official[(task_file, index)] = order
    else:
        official = official_orders_from_skeleton(samples)
        unchecked = sorted(
            {s["task_file"] for s in samples if (s["task_file"], s["row_index"]) not in official}
        )
        if unchecked:
            result.warn(
                "order-unchecked",
                "",
                f"presentation orders not verified for {', '.join(unchecked)} (incomplete task files; "
                "pass --data-dir to check against the data)",
            )
    for i, sample in enumerate(samples):
        key = (sample["task_file"], sample["row_index"])
        where = f"samples[{i}] ({key[0]} row {key[1]})"
        if rows is not None:
            file_rows = rows.get(key[0], [])
            if key[1] >= len(file_rows):
                result.error(
                    "unknown-row", where, f"{key[0]}.jsonl has {len(file_rows)} rows, no row {key[1]}"
                )
                continue
            row = file_rows[key[1]]
            truth = {
                "tasktype": row["tasktype"], "subtype": str(row["subtype"]),
                "length_bucket": row["ctx_length_for_length"], "row_id": row["id"],
            }  # fmt: skip
            for name, value in truth.items():
                if (
                    name in sample
                    and sample[name] != value
                    and not (name == "row_id" and sample[name] is None)
                ):
                    result.error(
                        "row-mismatch",
                        where,
                        f"{name} {short(sample[name])} but the data say {short(value)}",
                    )
        if key in official and list(sample["order"]) != official[key]:
            result.error(
                "order-not-official",
                where,
                f"order {sample['order']} is not the official presentation order {official[key]}",
            )


def check_empty_outputs(document: dict[str, Any], records: list[SampleRecord], result: Findings) -> None:
    """Empty judge responses are transport failures, not judgements: refused unless declared."""
    empty = sum(record.empty_output for record in records)
    if not empty:
        return
    if document.get("allow_empty_outputs") is True:
        result.warn(
            "empty-outputs",
            "$.allow_empty_outputs",
            f"{empty} of {len(records)} judge responses are empty (declared; scored 0 as unparsed)",
        )
        return
    result.error(
        "empty-outputs",
        "$.samples",
        f"{empty} of {len(records)} judge responses are empty (an API failure is not a judgement): "
        "rerun those rows, or declare them with allow_empty_outputs (longrm submission "
        "--allow-empty-outputs)",
    )


def validate_document(
    document: Any, data_dir: str | Path | None = None, result: Validation | None = None
) -> Validation:
    """Validate a parsed submission; on success ``result.run`` holds its per-sample records."""
    result = result if result is not None else Validation()
    result.document = document if isinstance(document, dict) else None
    if not check_schema(document, result):
        return result
    samples = document["samples"]
    first_seen: dict[tuple[str, int], int] = {}
    records = []
    for i, sample in enumerate(samples):
        key = (sample["task_file"], sample["row_index"])
        if key in first_seen:
            result.error(
                "duplicate",
                f"samples[{i}]",
                f"duplicate row {key[0]} row {key[1]} (first at samples[{first_seen[key]}])",
            )
            continue
        first_seen[key] = i
        record = check_sample(i, sample, result)
        if record is not None:
            records.append(record)
    if result.errors:
        return result
    check_empty_outputs(document, records, result)
    check_rows(document, data_rows(document, data_dir, result), result)
    recomputed = aggregate([r.scored() for r in records])
    for key, value in document["aggregates"].items():
        if abs(recomputed[key] - value) > TOLERANCE:
            result.error(
                "aggregate-mismatch",
                f"$.aggregates.{key}",
                f"{value!r} but the per-sample data give {recomputed[key]!r} (tampered or stale aggregate)",
            )
    if not result.errors:
        result.run = Run(
            name=document["model"]["name"],
            samples=records,
            source="submission",
            harness="submission",
            task=document.get("task", ""),
            harness_aggregates={k: float(v) for k, v in document["aggregates"].items()},
            provenance=dict(document["provenance"]),
        )
    return result


__all__ = ["Validation", "check_empty_outputs", "validate_document"]
