"""Submissions: built from a run, validated without executing or rendering anything, read back as runs.

Validation reads the file as data only: size-capped bytes → ``json.loads`` (NaN/Infinity refused) →
JSON Schema (no remote references, no format plugins) → checks that recompute every score and
aggregate from the most basic per-sample data given (response text → prediction → score), and compare
the presentation order with the official one wherever it can be derived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..constants import BEST_OF_N_SIZES, PAIRWISE, TASK_FILES
from ..data import load_local, load_sample
from ..errors import LongRMError
from ..order import presentation_orders
from ..parsing import parse_verdict, ranks_from_rewards
from .records import TOLERANCE, ReportError, Run, SampleRecord, record_from_prediction
from ..scoring import aggregate, sample_score
from .submission_schema import MAX_BYTES, SCHEMA_VERSION, submission_schema

MAX_MESSAGES = 25


@dataclass(frozen=True)
class Problem:
    """One finding: a stable code (for tests and tools), where it is, and what is wrong."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class Validation:
    """Outcome of validating one submission."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    document: dict[str, Any] | None = None
    run: Run | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, code: str, where: str, message: str) -> None:
        self.errors.append(Problem(code, where, message))

    def warn(self, code: str, where: str, message: str) -> None:
        self.warnings.append(Problem(code, where, message))


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a submission")


def parse_document(raw: bytes, result: Validation) -> Any:
    """Bytes → JSON value, or ``None`` with an error recorded."""
    if len(raw) > MAX_BYTES:
        result.error("too-large", "", f"file is {len(raw)} bytes, more than the {MAX_BYTES} byte limit")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        result.error("not-utf8", "", f"not UTF-8 text (byte {error.start}: {error.reason})")
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        result.error(
            "not-json", "", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        )
    except ValueError as error:
        result.error("not-json", "", f"not valid JSON: {error}")
    except RecursionError:
        result.error("not-json", "", "not valid JSON: nested too deeply")
    return None


def _path(parts: Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def check_schema(document: Any, result: Validation) -> bool:
    """The version first (so an old or foreign file gets one clear message), then the schema."""
    if not isinstance(document, dict):
        result.error("not-object", "$", f"a submission is a JSON object, got {type(document).__name__}")
        return False
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        what = "missing" if version is None else f"unsupported ({_short(version)})"
        result.error("schema-version", "$.schema_version", f"{what}: this validator reads {SCHEMA_VERSION!r}")
        return False
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        raise SystemExit("validation needs jsonschema: pip install 'longrm-tasks[report]'") from None
    validator = Draft202012Validator(submission_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: (list(e.absolute_path), e.message))
    for error in errors[:MAX_MESSAGES]:
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        result.error("schema", _path(error.absolute_path), message)
    if len(errors) > MAX_MESSAGES:
        result.error("schema", "", f"... and {len(errors) - MAX_MESSAGES} more schema errors")
    return not errors


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
            "subtype", where, f"a BestOfN row needs subtype '2', '3' or '4', got {_short(sample['subtype'])}"
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
        record = record_from_prediction(sample, prediction)
        empty = "response" in sample and not sample["response"].strip()
        return SampleRecord(**{**record.__dict__, "response": sample.get("response"), "empty_output": empty})
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
                        f"{name} {_short(sample[name])} but the data say {_short(value)}",
                    )
        if key in official and list(sample["order"]) != official[key]:
            result.error(
                "order-not-official",
                where,
                f"order {sample['order']} is not the official presentation order {official[key]}",
            )


def validate_document(document: Any, data_dir: str | Path | None = None) -> Validation:
    """Validate a parsed submission; on success ``result.run`` holds its per-sample records."""
    result = Validation(document=document if isinstance(document, dict) else None)
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
    check_rows(document, data_rows(document, data_dir, result), result)
    run = Run(
        name=document["model"]["name"],
        samples=records,
        source="submission",
        harness="submission",
        task=document.get("task", ""),
        harness_aggregates={k: float(v) for k, v in document["aggregates"].items()},
        provenance=dict(document["provenance"]),
    )
    recomputed = aggregate([r.scored() for r in records])
    for key, value in document["aggregates"].items():
        if abs(recomputed[key] - value) > TOLERANCE:
            result.error(
                "aggregate-mismatch",
                f"$.aggregates.{key}",
                f"{value!r} but the per-sample data give {recomputed[key]!r} (tampered or stale aggregate)",
            )
    if not result.errors:
        result.run = run
    return result


def validate_file(path: str | Path, data_dir: str | Path | None = None) -> Validation:
    """Validate a submission file (read as bytes; nothing in it is executed or rendered)."""
    result = Validation()
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        result.error("unreadable", "", f"cannot read the file ({error.strerror or error})")
        return result
    document = parse_document(raw, result)
    if result.errors:
        return result
    return validate_document(document, data_dir)


def load_submission_run(path: str | Path, name: str | None = None, data_dir: str | Path | None = None) -> Run:
    """A validated submission as a :class:`Run` (raises :class:`ReportError` listing the problems)."""
    result = validate_file(path, data_dir)
    if not result.ok or result.run is None:
        problems = "; ".join(str(p) for p in result.errors[:5])
        raise ReportError(f"{path}: invalid submission: {problems}")
    run = result.run
    run.source = str(path)
    if name:
        run.name = name
    return run


def build_submission(run: Run, model_type: str = "generative", name: str | None = None) -> dict[str, Any]:
    """A ``longrm-submission/1`` document from a run's records (responses kept when known)."""
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
    aggregates = {key: value for key, value in run.aggregates().items() if counts.get(key) or key == "avg"}
    return {
        "schema_version": SCHEMA_VERSION,
        "model": {"name": name or run.name, "type": model_type},
        "provenance": provenance,
        "task": run.task,
        "aggregates": aggregates,
        "samples": samples,
    }


__all__ = [
    "Problem",
    "Validation",
    "build_submission",
    "load_submission_run",
    "validate_document",
    "validate_file",
]
