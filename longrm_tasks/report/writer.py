"""``longrm report``: the tables, figures, parse failures and provenance of one or more runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import __version__
from ..atomic import write_files
from ..constants import TASK_FILES
from ..results.provenance import summary_lines
from ..results.records import Run
from ..results.submission import empty_outputs
from .neutralise import markdown_text
from .plots import length_curve, task_bars
from .stats import DEFAULT_ITERATIONS, DEFAULT_SEED, bootstrap_intervals
from .tables import (
    PARSE_FAILURE_FIELDS,
    TABLES,
    TITLES,
    Entry,
    csv_document,
    markdown_table,
    parse_failure_markdown,
    parse_failure_rows,
    run_entry,
    table_csv,
    table_json,
)


def sorted_samples(run: Run) -> list:
    """Records in a fixed order (task file, row index), so bootstraps do not depend on log order."""
    return [
        r.scored() for r in sorted(run.samples, key=lambda r: (TASK_FILES.index(r.task_file), r.row_index))
    ]


def run_entries(runs: Sequence[Run], iterations: int, seed: int) -> list[Entry]:
    """Table entries of the runs, with bootstrap CIs for every figure."""
    return [
        run_entry(run, bootstrap_intervals(sorted_samples(run), iterations=iterations, seed=seed))
        for run in runs
    ]


def json_text(document: Any) -> str:
    """JSON output: every non-ASCII or control character escaped, so no raw text reaches the file."""
    return json.dumps(document, indent=1, ensure_ascii=True) + "\n"


def build_report(
    runs: Sequence[Run],
    out: Path,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
    references: Sequence[Entry] = (),
    controls: Sequence[Entry] = (),
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``report.md``, ``report.json``, CSVs and figures to ``out``; return the JSON document.

    Everything is rendered in memory first and each file then replaced atomically, so a failure
    leaves the previous report as it was.
    """
    entries = run_entries(runs, iterations, seed)
    extra = [*controls, *references]
    document: dict[str, Any] = {
        "generator": f"longrm-tasks {__version__}",
        "bootstrap": {"iterations": iterations, "seed": seed, "level": 0.95, "strata": "task_file"},
        "runs": [
            {
                "name": run.name,
                "harness": run.harness,
                "task": run.task,
                "samples": len(run.samples),
                "empty_outputs": empty_outputs(run),
                "harness_aggregates_checked": sorted(run.harness_aggregates),
                "provenance": run.provenance,
            }
            for run in runs
        ],
        "tables": {name: table_json([*entries, *extra], columns) for name, columns in TABLES.items()},
        "parse_failures": parse_failure_rows(runs),
    }
    files: dict[str, bytes | str] = {
        f"{name}.csv": table_csv([*entries, *extra], columns) for name, columns in TABLES.items()
    }
    files["parse_failures.csv"] = csv_document(
        [
            PARSE_FAILURE_FIELDS,
            *([row[f] for f in PARSE_FAILURE_FIELDS] for row in document["parse_failures"]),
        ]
    )
    if plots:
        paper = [e for e in references if e.kind == "paper"]
        files |= length_curve(entries, "length_curve", paper) | task_bars(entries, "per_task")
    document["figures"] = [name for name in files if name.endswith((".png", ".svg"))]
    files["report.json"] = json_text(document)
    files["report.md"] = report_markdown(runs, entries, extra, document)
    write_files(out, files)
    return document


def report_markdown(
    runs: Sequence[Run], entries: list[Entry], extra: Sequence[Entry], document: dict[str, Any]
) -> str:
    """The human-readable report."""
    boot = document["bootstrap"]
    lines = [
        "# Long-RewardBench report",
        "",
        f"Scores ×100. Every figure is recomputed from the per-sample records with the benchmark's scorer; "
        f"brackets: 95% percentile bootstrap CI ({boot['iterations']} replicates, seed {boot['seed']}, "
        "resampled within task files). — = no rows of that kind in the run.",
        "",
    ]
    for run in runs:
        checked = len(run.harness_aggregates)
        status = (
            f"equal to the {checked} aggregates {run.harness} reported (checked)"
            if checked
            else "no harness aggregates to check against"
        )
        parts = run.provenance.get("parts") or []
        if parts:  # complementary parts joined into one run (results.parts)
            rows = " + ".join(str(part.get("rows")) for part in parts)
            joined = status.replace("reported", "reported for them")
            status = f"{len(parts)} parts joined ({rows} rows); {joined}"
        lines.append(f"- **{markdown_text(run.name)}**: {len(run.samples)} samples; {status}.")
        empty = empty_outputs(run)
        if empty:
            lines.append(
                f"  - ⚠ **{empty} of {len(run.samples)} judge outputs are empty** (scored 0 as unparsed): "
                "usually a transport failure (an API error answered as text), not a judgement — check "
                "the backend and rerun those rows; `longrm submission` refuses this run without "
                "`--allow-empty-outputs`."
            )
    if extra:
        lines.append(
            "- Rows marked *(paper)* are the published numbers (full benchmark); *(control)* rows are "
            "baselines computed from the data with the same scorer."
        )
    lines.append("")
    for name, columns in TABLES.items():
        lines += [f"## {TITLES[name]}", "", markdown_table([*entries, *extra], columns)]
    lines += ["## Parse failures (% of rows, failed/total; all formats)", "", parse_failure_markdown(runs)]
    if document.get("figures"):
        lines += ["## Figures", ""]
        lines += [f"![{name}]({name})" for name in document["figures"] if name.endswith(".png")]
        lines.append("")
    lines += ["## Provenance", ""]
    for run in runs:
        lines += [f"### {markdown_text(run.name)}", "", "| field | value |", "|---|---|"]
        lines += [f"| {label} | {markdown_text(value)} |" for label, value in summary_lines(run.provenance)]
        lines.append("")
    for entry in extra:
        if entry.note:
            lines.append(f"- {markdown_text(entry.name)} ({entry.kind}): {markdown_text(entry.note)}")
    return "\n".join(lines).rstrip() + "\n"


def entry_json(entry: Entry) -> dict[str, Any]:
    return {**asdict(entry), "intervals": {k: [v.low, v.high] for k, v in entry.intervals.items()}}
