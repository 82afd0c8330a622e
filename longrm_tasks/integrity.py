"""Integrity checks of loaded data: known file hashes, and the real benchmark's row counts.

A local copy whose files match no known manifest is reported (a warning, an error in strict
mode); a data set that claims to be the full benchmark must have exactly its counts per task file,
format, N and length bucket, so no row is ever dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import (
    BEST_OF_N,
    BEST_OF_N_SIZES,
    EXPECTED_BEST_OF_N_ROWS_PER_N,
    EXPECTED_FILE_ROWS,
    EXPECTED_LENGTH_ROWS,
    EXPECTED_PAIRWISE_ROWS,
    PAIRWISE,
)
from .data import BenchmarkData
from .errors import LongRMError

#: Known releases: name → {file name: sha256}. Add the hub revision's hashes when they are known
#: (``python -m longrm_tasks manifest DIR`` prints them for a folder).
MANIFEST_PATH = Path(__file__).resolve().parent / "data" / "manifests.json"


class IntegrityError(LongRMError):
    """Data failed an integrity check in strict mode."""


@dataclass
class IntegrityReport:
    """What the checks found; ``problems`` is empty when all is well."""

    manifest: str | None
    problems: list[str] = field(default_factory=list)

    def to_provenance(self) -> dict[str, Any]:
        """Entry recorded in the results."""
        return {"manifest_match": self.manifest, "problems": list(self.problems)}


def load_manifests(path: Path = MANIFEST_PATH) -> dict[str, dict[str, str]]:
    """Known releases and their file hashes."""
    return json.loads(path.read_text()) if path.is_file() else {}


def matching_manifest(data: BenchmarkData, manifests: dict[str, dict[str, str]]) -> str | None:
    """Name of the release whose hashes match every file read, if any."""
    for name, hashes in manifests.items():
        if hashes and all(hashes.get(file) == digest for file, digest in data.sha256.items()):
            return name
    return None


def count_differences(data: BenchmarkData) -> list[str]:
    """Differences between ``data``'s row counts and the real benchmark's."""
    rows = [row for file_rows in data.rows.values() for row in file_rows]
    expected_total = sum(EXPECTED_FILE_ROWS.values())
    problems = []
    for task, expected in EXPECTED_FILE_ROWS.items():
        got = len(data.rows.get(task, []))
        if got != expected:
            problems.append(f"{task}.jsonl has {got} rows, the benchmark {expected}")
    for task, expected in EXPECTED_PAIRWISE_ROWS.items():
        got = sum(row["tasktype"] == PAIRWISE for row in data.rows.get(task, []))
        if got != expected:
            problems.append(f"{task}.jsonl has {got} pairwise rows, the benchmark {expected}")
    sizes = Counter(row["subtype"] for row in rows if row["tasktype"] == BEST_OF_N)
    expected_per_n = EXPECTED_BEST_OF_N_ROWS_PER_N
    for n in BEST_OF_N_SIZES:
        if sizes[str(n)] != expected_per_n:
            problems.append(f"{sizes[str(n)]} best-of-{n} rows, the benchmark {expected_per_n}")
    buckets = Counter(row["ctx_length_for_length"] for row in rows)
    for bucket, expected in EXPECTED_LENGTH_ROWS.items():
        if buckets[bucket] != expected:
            problems.append(f"{buckets[bucket]} rows in the {bucket} bucket, the benchmark {expected}")
    if len(rows) != expected_total and not problems:
        problems.append(f"{len(rows)} rows, the benchmark {expected_total}")
    return problems


def missing_rows(data: BenchmarkData, *, full_set: bool) -> list[str]:
    """Task files that would silently score fewer rows than they should: an empty file always, and in a
    run that claims the full benchmark, a file with fewer rows than the benchmark's."""
    problems = []
    for task, rows in data.rows.items():
        expected = EXPECTED_FILE_ROWS.get(task, 0)
        if not rows:
            problems.append(f"{task}.jsonl has no rows")
        elif full_set and len(rows) < expected:
            problems.append(f"{task}.jsonl has {len(rows)} rows, fewer than the benchmark's {expected}")
    return problems


def check_integrity(
    data: BenchmarkData, *, full_set: bool, strict: bool = False, partial: bool = False
) -> IntegrityReport:
    """Run the checks. Missing rows (:func:`missing_rows`) are an error, unless ``partial`` says the
    user runs a partial copy on purpose (an empty file is an error even then); in strict mode any
    problem raises :class:`IntegrityError`."""
    missing = missing_rows(data, full_set=full_set and not partial)
    if missing:
        hint = "" if partial else " (to run a partial copy on purpose: --metadata '{\"partial_data\": true}')"
        raise IntegrityError("the data is incomplete: " + "; ".join(missing) + hint)
    report = IntegrityReport(manifest=matching_manifest(data, load_manifests()))
    if report.manifest is None and data.source != "hub":
        report.problems.append(
            "the data files match no known release manifest (results may not be comparable); "
            f"sha256: {', '.join(f'{name}={digest[:12]}' for name, digest in data.sha256.items())}"
        )
    if full_set:
        report.problems.extend(count_differences(data))
    if strict and report.problems:
        raise IntegrityError("strict integrity check failed: " + "; ".join(report.problems))
    return report
