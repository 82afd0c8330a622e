"""The paper's tables (Table 1 layout, Table 2 layout, summary, parse failures) as Markdown, CSV, JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..constants import BEST_OF_N_SIZES, LENGTH_BUCKETS, TASK_FILES
from ..results.records import Run
from ..results.submission import empty_outputs
from ..scoring import PARSE_FAILURE_METRIC, length_metric, task_metric
from .neutralise import csv_text, markdown_text
from .stats import Interval

Columns = Sequence[tuple[str, str]]

#: Paper Table 1 (generative RMs) / Table 6 (scalar RMs): column label → metric key.
TABLE1: Columns = (
    *((task, task_metric(task)) for task in TASK_FILES),
    *((f"Rank{n}", f"rank{n}") for n in BEST_OF_N_SIZES),
    ("Avg.", "avg"),
)
#: Paper Table 2 (pairwise accuracy by context length).
TABLE2: Columns = (*((bucket, length_metric(bucket)) for bucket in LENGTH_BUCKETS), ("L-Avg.", "len_avg"))
#: The remaining spec §7 figures and the parse-failure rate.
SUMMARY: Columns = (
    ("Same.", "same"),
    ("Diff.", "diff"),
    ("PairWise Avg.", "pairwise_avg"),
    ("Rank Avg.", "bon_avg"),
    ("AVG.", "avg"),
    ("parse fail", PARSE_FAILURE_METRIC),
)
TABLES: dict[str, Columns] = {"table1": TABLE1, "table2": TABLE2, "summary": SUMMARY}
TITLES = {
    "table1": "Table 1 layout: pairwise accuracy per task, best-of-N rank-match per N, overall Avg.",
    "table2": "Table 2 layout: pairwise accuracy by context length, L-Avg. = unweighted mean of buckets",
    "summary": "Other figures: Same./Diff. pairs, format averages, AVG. (headline), parse failures",
}


@dataclass
class Entry:
    """One row of a table: a run, a submission, a paper row or a control baseline (fractions 0–1)."""

    name: str
    kind: str
    metrics: dict[str, float]
    intervals: dict[str, Interval] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""
    #: Warnings shown next to the name wherever the entry is (e.g. empty judge outputs).
    flags: tuple[str, ...] = ()

    def has(self, key: str) -> bool:
        """Whether the entry reports ``key`` (a metric with no rows is not reported)."""
        return key in self.metrics and self.counts.get(key, 1) > 0


def run_flags(run: Run) -> tuple[str, ...]:
    """Warnings a reader must see next to the run's numbers."""
    empty = empty_outputs(run)
    return (f"{empty} of {len(run.samples)} judge outputs empty",) if empty else ()


def run_entry(run: Run, intervals: dict[str, Interval] | None = None, kind: str = "run") -> Entry:
    """Table entry of a run, from its per-sample records."""
    return Entry(run.name, kind, run.aggregates(), intervals or {}, run.counts(), flags=run_flags(run))


def _cell(entry: Entry, key: str, ci: bool) -> str:
    if not entry.has(key):
        return "—"
    text = f"{100 * entry.metrics[key]:.1f}"
    interval = entry.intervals.get(key)
    if ci and interval is not None:
        text += f" ({100 * interval.low:.1f}–{100 * interval.high:.1f})"
    return text


def _marked(entry: Entry) -> str:
    name = markdown_text(entry.name)
    if entry.kind not in ("run", "submission"):
        name += f" *({entry.kind})*"
    return name + "".join(f" ⚠ {markdown_text(flag)}" for flag in entry.flags)


def markdown_table(entries: Iterable[Entry], columns: Columns, *, ci: bool = True) -> str:
    """A Markdown table, values ×100 with one decimal and, where known, the 95% CI in brackets."""
    lines = [
        "| model | " + " | ".join(label for label, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for entry in entries:
        lines.append(
            f"| {_marked(entry)} | " + " | ".join(_cell(entry, key, ci) for _, key in columns) + " |"
        )
    return "\n".join(lines) + "\n"


def table_json(entries: Iterable[Entry], columns: Columns) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (fractions; ``null`` where the entry has no rows for a column)."""
    rows = []
    for entry in entries:
        values = {}
        for label, key in columns:
            interval = entry.intervals.get(key)
            values[label] = {
                "key": key,
                "value": entry.metrics[key] if entry.has(key) else None,
                "ci95": [interval.low, interval.high] if interval is not None and entry.has(key) else None,
                "n": entry.counts.get(key),
            }
        rows.append({"model": entry.name, "kind": entry.kind, "note": entry.note, "values": values})
    return rows


def csv_document(rows: Iterable[Sequence[Any]]) -> str:
    """CSV text; every text cell through :func:`~.neutralise.csv_text` (numbers as ``repr``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([csv_text(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue()


def table_csv(entries: Iterable[Entry], columns: Columns) -> str:
    """Wide CSV: one line per entry; for each column the value and its CI bounds (fractions)."""
    header = ["model", "kind"]
    for label, _ in columns:
        header += [label, f"{label} ci_low", f"{label} ci_high"]
    lines: list[list[Any]] = [header]
    for entry in entries:
        line: list[Any] = [entry.name, entry.kind]
        for _, key in columns:
            interval = entry.intervals.get(key)
            if entry.has(key):
                line += [entry.metrics[key], *((interval.low, interval.high) if interval else ("", ""))]
            else:
                line += ["", "", ""]
        lines.append(line)
    return csv_document(lines)


@dataclass(frozen=True)
class FailureCell:
    """Parse failures in one group of samples."""

    failed: int
    total: int

    @property
    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


def parse_failures(run: Run) -> dict[str, dict[str, FailureCell]]:
    """Parse-failure counts per task file and per length bucket (all rows, both formats)."""
    groups: dict[str, dict[str, list[bool]]] = {
        "task_file": {task: [] for task in TASK_FILES},
        "length_bucket": {bucket: [] for bucket in LENGTH_BUCKETS},
    }
    for record in run.samples:
        groups["task_file"][record.task_file].append(not record.parsed)
        groups["length_bucket"].setdefault(record.length_bucket, []).append(not record.parsed)
    return {
        by: {name: FailureCell(sum(flags), len(flags)) for name, flags in cells.items()}
        for by, cells in groups.items()
    }


def parse_failure_markdown(runs: Sequence[Run]) -> str:
    """Per run: parse-failure rate (%) and counts per task file and per length bucket."""
    out = []
    for by, names in (("task_file", TASK_FILES), ("length_bucket", LENGTH_BUCKETS)):
        out += ["| model | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for run in runs:
            cells = parse_failures(run)[by]
            out.append(
                f"| {markdown_text(run.name)} | "
                + " | ".join(
                    f"{100 * cells[n].rate:.1f} ({cells[n].failed}/{cells[n].total})"
                    if cells[n].total
                    else "—"
                    for n in names
                )
                + " |"
            )
        out.append("")
    return "\n".join(out)


PARSE_FAILURE_FIELDS = ("model", "by", "group", "failed", "total", "rate")


def parse_failure_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Long-format parse-failure rows (for CSV/JSON)."""
    rows = []
    for run in runs:
        for by, cells in parse_failures(run).items():
            for group, cell in cells.items():
                rows.append(
                    {
                        "model": run.name,
                        "by": by,
                        "group": group,
                        "failed": cell.failed,
                        "total": cell.total,
                        "rate": cell.rate if cell.total else None,
                    }
                )
    return rows
