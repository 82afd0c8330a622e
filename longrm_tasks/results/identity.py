"""Row identity manifests: which rows a release holds, and how each one is presented.

For every recorded release, per task file and row index: the row's id, format, subtype (pair kind or
N), length bucket and official presentation order (gold rank of each slot). A submission earns the
scope of a release only when its rows are exactly these (:mod:`.scope`). Manifests are derived from
the data with ``longrm identity`` and shipped in ``longrm_tasks/data/identity.json``; the bundled
sample is recorded, the full benchmark is not yet (until then its scope is checked by row counts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..data import BenchmarkData
from ..order import presentation_orders
from .records import RowKey

IDENTITY_FORMAT = "longrm-identity/1"
IDENTITY_PATH = Path(__file__).resolve().parents[1] / "data" / "identity.json"

#: What identifies a presented row: (row id, format, subtype, length bucket, order).
RowIdentity = tuple[Any, str, str, str, tuple[int, ...]]


def release_identity(data: BenchmarkData, scope: str) -> dict[str, Any]:
    """The manifest entry of one release: its scope, file hashes and every row's identity."""
    rows: dict[str, list[list[Any]]] = {}
    for task_file, file_rows in data.rows.items():
        entries: list[list[Any]] = [[] for _ in file_rows]
        for index, order in presentation_orders(file_rows):
            row = file_rows[index]
            entries[index] = [
                row["id"], row["tasktype"], str(row["subtype"]), row["ctx_length_for_length"], list(order),
            ]  # fmt: skip
        rows[task_file] = entries
    return {"scope": scope, "files_sha256": dict(data.sha256), "rows": rows}


def with_release(manifest: dict[str, Any] | None, name: str, release: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with ``release`` recorded under ``name`` (other releases kept)."""
    releases = dict((manifest or {}).get("releases") or {})
    releases[name] = release
    return {"format": IDENTITY_FORMAT, "releases": releases}


def load_identities(path: Path = IDENTITY_PATH) -> dict[str, dict[RowKey, RowIdentity]]:
    """Recorded releases: scope name → row key → identity (the shipped file is trusted data)."""
    if not path.is_file():
        return {}
    manifest = json.loads(path.read_text("utf-8"))
    identities = {}
    for release in manifest.get("releases", {}).values():
        identities[release["scope"]] = {
            (task_file, index): (row[0], row[1], row[2], row[3], tuple(row[4]))
            for task_file, entries in release["rows"].items()
            for index, row in enumerate(entries)
        }
    return identities
