"""The scope a run earns: which leaderboard table it may be ranked in.

A scope is earned by the rows, never by what a file says about itself. A run is on the full benchmark
only when its rows have the benchmark's structure — rows 0..n−1 of every task file, and the spec §1
counts per task file, format, N and length bucket (the checks of
:func:`longrm_tasks.integrity.count_differences`) — and, once the release's identity manifest is
recorded (:mod:`.identity`), exactly its rows. It is on the bundled sample only when its rows are
exactly the sample's. Any other run is ranked only against runs on the same set of rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..constants import TASK_FILES
from ..data import BenchmarkData
from ..integrity import count_differences
from .identity import RowIdentity, load_identities
from .records import RowKey, Run, SampleRecord

FULL, SAMPLE = "full", "bundled-sample"


@dataclass(frozen=True)
class Scope:
    """A scope name and, for a partial run, why it is not on a recorded or full-size release."""

    name: str
    reasons: tuple[str, ...] = ()


def _identity(record: SampleRecord) -> RowIdentity:
    return (record.row_id, record.tasktype, record.subtype, record.length_bucket, record.order)


def identity_problem(run: Run, release: Mapping[RowKey, RowIdentity]) -> str | None:
    """Why the run's rows are not exactly the release's (``None`` when they are)."""
    rows = run.by_key()
    missing, extra = len(set(release) - set(rows)), len(set(rows) - set(release))
    if missing or extra:
        return f"{len(set(rows) & set(release))} of its {len(release)} rows ({extra} others)"
    for key, record in sorted(rows.items(), key=lambda item: (TASK_FILES.index(item[0][0]), item[0][1])):
        expected = release[key]
        if record.row_id is None:
            expected = (None, *expected[1:])
        if _identity(record) != expected:
            return f"{key[0]} row {key[1]} is {_identity(record)[1:]}, the release's {expected[1:]}"
    return None


def count_problems(run: Run) -> list[str]:
    """Differences between the run's rows and the full benchmark's structure (empty = same structure)."""
    by_file: dict[str, list[SampleRecord]] = {}
    for record in run.samples:
        by_file.setdefault(record.task_file, []).append(record)
    problems = [
        f"{task}.jsonl rows are not 0..{len(records) - 1}"
        for task, records in by_file.items()
        if sorted(r.row_index for r in records) != list(range(len(records)))
    ]
    skeleton = BenchmarkData(
        rows={
            task: [
                {"tasktype": r.tasktype, "subtype": r.subtype, "ctx_length_for_length": r.length_bucket}
                for r in records
            ]
            for task, records in by_file.items()
        },
        source="run",
    )
    return problems + count_differences(skeleton)


def row_set_label(run: Run) -> str:
    """Scope of a partial run: its size and a digest of its rows' identities (same rows, same label)."""
    identities = sorted(
        (record.key, _identity(record)[1:]) for record in run.samples
    )  # the row id is optional in submissions: not part of the label
    digest = hashlib.sha256(json.dumps(identities).encode()).hexdigest()
    return f"partial data ({len(run.samples)} rows, row set {digest[:8]})"


def earned_scope(run: Run, identities: Mapping[str, Mapping[RowKey, RowIdentity]] | None = None) -> Scope:
    """The scope the run's rows earn (see the module docstring)."""
    identities = load_identities() if identities is None else identities
    reasons = []
    for scope, release in identities.items():
        problem = identity_problem(run, release)
        if problem is None:
            return Scope(scope)
        reasons.append(f"not the {scope} release: {problem}")
    if FULL not in identities:
        problems = count_problems(run)
        if not problems:
            return Scope(FULL)
        reasons.append("not the full benchmark: " + "; ".join(problems[:4]))
    return Scope(row_set_label(run), tuple(reasons))
