"""Reference rows kept as data: the paper's published numbers and control baselines.

File format ``longrm-reference/1`` (JSON)::

    {"schema": "longrm-reference/1", "kind": "paper" | "control", "scope": "full" | "bundled-sample",
     "citation": "...", "scale": 100 | 1, "rows": [{"name": ..., "tables": [...], "metrics": {key: value}}]}

``metrics`` are keyed by the core's metric keys; ``scale`` 100 means the values are printed ×100 as
in the paper (they are divided by 100 on loading).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..results.records import ReportError
from ..scoring import METRIC_REDUCERS
from .tables import Entry

REFERENCE_SCHEMA = "longrm-reference/1"
KINDS = ("paper", "control")


def is_reference(document: Any) -> bool:
    return isinstance(document, dict) and document.get("schema") == REFERENCE_SCHEMA


def reference_entries(document: dict[str, Any], source: str = "") -> list[Entry]:
    """Table entries of one reference document (values as fractions)."""
    kind = document.get("kind")
    if kind not in KINDS:
        raise ReportError(f"{source}: reference kind must be one of {KINDS}, got {kind!r}")
    scale = float(document.get("scale", 1))
    entries = []
    for row in document.get("rows", []):
        unknown = set(row.get("metrics", {})) - set(METRIC_REDUCERS)
        if unknown:
            raise ReportError(f"{source}: row {row.get('name')!r} has unknown metric keys {sorted(unknown)}")
        metrics = {key: float(value) / scale for key, value in row["metrics"].items()}
        note = "; ".join(filter(None, [", ".join(row.get("tables", [])), row.get("note", "")]))
        entries.append(Entry(str(row["name"]), kind, metrics, note=note))
    return entries


def load_reference(path: str | Path) -> tuple[dict[str, Any], list[Entry]]:
    """A reference file: the document and its entries."""
    path = Path(path)
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: cannot read reference file ({error})") from None
    if not is_reference(document):
        raise ReportError(f"{path}: not a {REFERENCE_SCHEMA} file")
    return document, reference_entries(document, str(path))


def reference_files(folder: str | Path) -> list[Path]:
    """Every reference file at or below ``folder``."""
    folder = Path(folder)
    candidates = [folder] if folder.is_file() else sorted(folder.rglob("*.json"))
    found = []
    for path in candidates:
        try:
            if is_reference(json.loads(path.read_text("utf-8"))):
                found.append(path)
        except (OSError, ValueError):
            continue
    return found
