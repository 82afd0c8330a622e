"""Reference rows (paper numbers, control baselines) as table entries; files are read by ``results``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..results.loaders import REFERENCE, UNREADABLE, json_files, read_file
from ..results.records import ReportError
from ..results.reference import ReferenceRow, validate_reference_document
from .tables import Entry


def reference_entries(rows: Iterable[ReferenceRow]) -> list[Entry]:
    """Table entries of reference rows (values are fractions already)."""
    return [Entry(row.name, row.kind, dict(row.metrics), note=row.note) for row in rows]


def document_entries(document: dict[str, Any]) -> list[Entry]:
    """Entries of a reference document built in memory (e.g. controls computed on the run's data)."""
    result = validate_reference_document(document)
    if not result.ok:
        raise ReportError(f"reference rows do not validate: {result.summary()}")
    return reference_entries(result.rows)


def load_references(paths: Iterable[str | Path]) -> list[Entry]:
    """Entries of every reference file at or below ``paths``; an invalid or unreadable one stops
    with its reasons (other JSON files are skipped)."""
    entries = []
    for path in json_files(paths):
        loaded = read_file(path)
        if loaded.kind not in (REFERENCE, UNREADABLE):
            continue
        if not loaded.ok:
            raise ReportError(f"invalid reference file {path}: {loaded.findings.summary()}")
        entries += reference_entries(loaded.rows)
    return entries
