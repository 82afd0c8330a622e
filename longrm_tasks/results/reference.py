"""Reference files: the paper's published rows and control baselines, kept as data and validated.

File format ``longrm-reference/1`` (JSON)::

    {"schema": "longrm-reference/1", "kind": "paper" | "control",
     "scope": "full" | "bundled-sample" | "local", "citation": "...", "scale": 100 | 1,
     "rows": [{"name": ..., "tables": [...], "note": ..., "metrics": {key: value}}]}

``metrics`` are keyed by the core's metric keys; ``scale`` 100 means the values are printed ×100 as in
the paper (they are divided by 100 on loading). A reference file is read like a submission (size
first, strict JSON, its own JSON Schema with strict integers), and every value over ``scale`` must be
a fraction in [0, 1]: a broken file is refused with coded findings, never shown with made-up numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..scoring import METRIC_REDUCERS
from .jsonfile import schema_findings, versioned
from .problems import Findings

REFERENCE_SCHEMA = "longrm-reference/1"
KINDS = ("paper", "control")
SCOPES = ("full", "bundled-sample", "local")
SCALES = (1, 100)
#: Reference files are small tables (the committed ones are a few kilobytes).
MAX_REFERENCE_BYTES = 1024 * 1024
MAX_ROWS = 200


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit}


def reference_schema() -> dict[str, Any]:
    """The JSON Schema of ``longrm-reference/1``."""
    row = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "metrics"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "type": _text(100),
            "note": _text(2_000),
            "tables": {"type": "array", "items": _text(100), "maxItems": 20},
            "metrics": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"enum": list(METRIC_REDUCERS)},
                "additionalProperties": {"type": "number", "minimum": 0},
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": REFERENCE_SCHEMA,
        "title": "Long-RewardBench reference rows (published numbers, control baselines), version 1",
        "type": "object",
        "additionalProperties": False,
        "required": ["schema", "kind", "scope", "citation", "scale", "rows"],
        "properties": {
            "schema": {"const": REFERENCE_SCHEMA},
            "kind": {"enum": list(KINDS)},
            "scope": {"enum": list(SCOPES)},
            "citation": {"type": "string", "minLength": 1, "maxLength": 2_000},
            "url": _text(500),
            "notes": {"type": "array", "items": _text(2_000), "maxItems": 50},
            "scale": {"type": "integer", "enum": list(SCALES)},
            "data": {"type": "object"},
            "rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": row},
        },
    }


@dataclass(frozen=True)
class ReferenceRow:
    """One reference row, values as fractions."""

    name: str
    kind: str
    scope: str
    metrics: dict[str, float]
    note: str = ""


@dataclass
class ReferenceValidation(Findings):
    """Outcome of validating one reference file (``rows`` is set when it is valid)."""

    document: dict[str, Any] | None = None
    rows: list[ReferenceRow] = field(default_factory=list)


def is_reference(document: Any) -> bool:
    """Whether a parsed JSON value claims to be a reference file (of any version)."""
    return isinstance(document, dict) and str(document.get("schema", "")).startswith("longrm-reference/")


def validate_reference_document(
    document: Any, result: ReferenceValidation | None = None
) -> ReferenceValidation:
    """Schema, then the range of every value; on success ``result.rows`` holds the rows."""
    result = result if result is not None else ReferenceValidation()
    if not versioned(document, "schema", REFERENCE_SCHEMA, "a reference file", result):
        return result
    result.document = document
    if not schema_findings(document, reference_schema(), result):
        return result
    scale = document["scale"]
    rows = []
    for i, row in enumerate(document["rows"]):
        for key, value in row["metrics"].items():
            if value / scale > 1:
                result.error(
                    "metric-range",
                    f"$.rows[{i}].metrics.{key}",
                    f"{value!r} is more than {scale} (values are fractions × scale {scale})",
                )
        note = "; ".join(filter(None, [", ".join(row.get("tables", [])), row.get("note", "")]))
        metrics = {key: value / scale for key, value in row["metrics"].items()}
        rows.append(ReferenceRow(row["name"], document["kind"], document["scope"], metrics, note))
    if not result.errors:
        result.rows = rows
    return result
