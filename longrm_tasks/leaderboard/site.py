"""``longrm leaderboard``: a static HTML page and a Markdown table from submissions and reference rows.

Files are read by :func:`longrm_tasks.results.loaders.read_file`, the loader ``longrm validate`` uses:
the page shows exactly the files validate accepts, and lists every other longrm file it found with
its reasons. A submission is ranked in the scope its rows earn (:mod:`longrm_tasks.results.scope`),
never in the one it claims. Every string from a file is neutralised and HTML-escaped where it is
written; the page's only script is inline, allowed by a Content-Security-Policy hash, and touches the
DOM only to reorder table rows, so injected markup could neither render nor run. Both outputs are
rendered in memory and replaced atomically: a failed build never touches the previous page.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_files
from ..constants import BEST_OF_N_SIZES, LENGTH_BUCKETS, TASK_FILES
from ..report.neutralise import html_text, markdown_text
from ..report.reference import reference_entries
from ..report.stats import DEFAULT_ITERATIONS, DEFAULT_SEED
from ..report.tables import SUMMARY, TABLE1, TABLE2, Entry, markdown_table
from ..report.writer import run_entries
from ..results.loaders import OTHER, SUBMISSION, LoadedFile, json_files, read_file
from ..results.records import ReportError
from ..results.scope import FULL, SAMPLE
from ..scoring import length_metric, task_metric

SCOPE_TITLES = {
    FULL: "Long-RewardBench (full benchmark, 1,900 rows)",
    SAMPLE: "Bundled sample (pipeline demo data — not comparable with the full benchmark)",
}
OVERALL: Sequence[tuple[str, str]] = (
    *TABLE1[:-1],
    ("Same.", "same"),
    ("Diff.", "diff"),
    ("L-Avg.", "len_avg"),
    ("parse fail", "parse_fail"),
    ("AVG.", "avg"),
)
PER_TASK = (
    *((task, task_metric(task)) for task in TASK_FILES),
    *((f"Rank{n}", f"rank{n}") for n in BEST_OF_N_SIZES),
)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:right}
th:first-child,td:first-child,td.name{text-align:left}
th button{font:inherit;background:none;border:0;cursor:pointer;padding:0}
th[aria-sort=descending] button::after{content:" \\25BC"}
th[aria-sort=ascending] button::after{content:" \\25B2"}
tr.reference{background:#f4f4f4;color:#555}
.badge{font-size:.7rem;border:1px solid #888;border-radius:3px;padding:0 .25rem;margin-left:.3rem}
.badge.warn{border-color:#b35900;color:#b35900}
.ci{color:#777;font-size:.75rem;display:block}
.tasks{display:flex;flex-wrap:wrap;gap:1rem}
.tasks table{font-size:.8rem}
""".strip()

SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "number";
      var current = th.getAttribute("aria-sort");
      var descending = current ? current === "ascending" : numeric;
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
        if (x === "" || x === null) { return 1; }
        if (y === "" || y === null) { return -1; }
        var r = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return descending ? -r : r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    });
  });
});
""".strip()


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@dataclass(frozen=True)
class Excluded:
    """A longrm file left off the page, and why (the reasons ``longrm validate`` gives)."""

    path: Path
    shown: str
    kind: str
    reasons: str

    @classmethod
    def of(cls, loaded: LoadedFile, shown: str) -> Excluded:
        kind = {"submission": "submission", "reference": "reference file"}.get(loaded.kind, "file")
        return cls(loaded.path, shown, kind, loaded.findings.summary())

    def __str__(self) -> str:
        return f"invalid {self.kind} {self.path}: {self.reasons}"

    def published(self) -> str:
        """The line shown on the page (the file relative to the folder it was found in)."""
        return f"invalid {self.kind} {self.shown}: {self.reasons}"


@dataclass
class Board:
    """Entries grouped by the data they were computed on (scores are only comparable within a scope)."""

    scopes: dict[str, list[Entry]] = field(default_factory=dict)
    excluded: list[Excluded] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)

    def add(self, scope: str, entry: Entry) -> None:
        self.scopes.setdefault(scope, []).append(entry)


def collect(
    paths: Sequence[Path],
    *,
    data_dir: Path | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
) -> Board:
    """Every submission and reference file under ``paths``: valid ones placed, the others excluded."""
    board = Board()
    for path, shown in json_files(paths).items():
        loaded = read_file(path, data_dir)
        if loaded.kind == OTHER:
            board.ignored.append(path)
        elif not loaded.ok:
            board.excluded.append(Excluded.of(loaded, shown))
        elif loaded.kind == SUBMISSION and loaded.run is not None and loaded.scope is not None:
            (entry,) = run_entries([loaded.run], iterations, seed)
            entry.kind = "submission"
            board.add(loaded.scope.name, entry)
        else:
            for row in loaded.rows:
                board.add(row.scope, *reference_entries([row]))
    return board


def _ranked(entries: list[Entry], key: str = "avg") -> list[Entry]:
    return sorted(entries, key=lambda e: (not e.has(key), -e.metrics.get(key, 0.0), e.name))


def _name_cell(entry: Entry) -> str:
    badge = "" if entry.kind == "submission" else f'<span class="badge">{html_text(entry.kind)}</span>'
    badge += "".join(f'<span class="badge warn">⚠ {html_text(flag)}</span>' for flag in entry.flags)
    title = f' title="{html_text(entry.note)}"' if entry.note else ""
    return (
        f'<td class="name" data-sort="{html_text(entry.name.lower())}"{title}>'
        f"{html_text(entry.name)}{badge}</td>"
    )


def _value_cell(entry: Entry, key: str) -> str:
    if not entry.has(key):
        return '<td data-sort="">—</td>'
    value = 100 * entry.metrics[key]
    interval = entry.intervals.get(key)
    ci = f'<span class="ci">{100 * interval.low:.1f}–{100 * interval.high:.1f}</span>' if interval else ""
    return f'<td data-sort="{value:.6f}">{value:.1f}{ci}</td>'


def html_table(entries: list[Entry], columns: Sequence[tuple[str, str]], table_id: str) -> str:
    """A sortable table (click a header); reference rows carry the ``reference`` class and a badge."""
    head = '<th data-type="text"><button type="button">model</button></th>' + "".join(
        f'<th data-type="number"><button type="button">{html_text(label)}</button></th>'
        for label, _ in columns
    )
    body = []
    for entry in entries:
        css = "" if entry.kind == "submission" else ' class="reference"'
        cells = _name_cell(entry) + "".join(_value_cell(entry, key) for _, key in columns)
        body.append(f"<tr{css}>{cells}</tr>")
    return (
        f'<table class="sortable" id="{html_text(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def length_svg(entries: list[Entry]) -> str:
    """Pairwise accuracy vs context length as inline SVG (bands for submissions, dashes for references)."""
    width, height, left, right, top, bottom = 640, 300, 50, 200, 15, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    keys = [length_metric(b) for b in LENGTH_BUCKETS]

    def x(i: int) -> float:
        return left + plot_w * i / (len(keys) - 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="pairwise accuracy by context length">'
    ]
    for tick in range(0, 101, 25):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick / 100):.1f}" y2="{y(tick / 100):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick / 100) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick}</text>'
        )
    for i, bucket in enumerate(LENGTH_BUCKETS):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 18}" font-size="11" '
            f'text-anchor="middle">{bucket}</text>'
        )
    drawn = [e for e in entries if any(e.has(k) for k in keys)]
    for n, entry in enumerate(drawn):
        color = COLORS[n % len(COLORS)]
        points = [
            (x(i), entry.metrics[k], entry.intervals.get(k)) for i, k in enumerate(keys) if entry.has(k)
        ]
        bands = [(px, iv) for px, _, iv in points if iv is not None]
        if len(bands) > 1:
            outline = [f"{px:.1f},{y(iv.high):.1f}" for px, iv in bands] + [
                f"{px:.1f},{y(iv.low):.1f}" for px, iv in reversed(bands)
            ]
            parts.append(
                f'<polygon points="{" ".join(outline)}" fill="{color}" fill-opacity="0.15" stroke="none"/>'
            )
        dash = ' stroke-dasharray="5,4"' if entry.kind != "submission" else ""
        line = " ".join(f"{px:.1f},{y(v):.1f}" for px, v, _ in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        label = entry.name if entry.kind == "submission" else f"{entry.name} ({entry.kind})"
        parts.append(
            f'<text x="{left + plot_w + 10}" y="{top + 14 * (n + 1)}" font-size="11" fill="{color}">'
            f"{html_text(label[:40])}</text>"
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.0f}" font-size="11" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})" text-anchor="middle">'
        "pairwise accuracy (%)</text></svg>"
    )
    return "".join(parts)


def scope_section(index: int, scope: str, entries: list[Entry]) -> str:
    title = SCOPE_TITLES.get(scope, scope)
    ranked = _ranked(entries)
    length_entries = [e for e in ranked if any(e.has(length_metric(b)) for b in LENGTH_BUCKETS)]
    per_task = []
    for label, key in PER_TASK:
        members = [e for e in _ranked(entries, key) if e.has(key)]
        if members:
            table = html_table(members, [(label, key)], f"s{index}-{key}")
            per_task.append(f"<div><h4>{html_text(label)}</h4>{table}</div>")
    curve = length_svg(length_entries) if length_entries else "<p>No length data.</p>"
    return (
        f'<section id="scope-{index}"><h2>{html_text(title)}</h2>'
        f"<h3>Overall</h3>{html_table(ranked, OVERALL, f's{index}-overall')}"
        f"<h3>Accuracy vs context length</h3>{curve}"
        f"{html_table(length_entries, TABLE2, f's{index}-length') if length_entries else ''}"
        f'<h3>Per task</h3><div class="tasks">{"".join(per_task)}</div></section>'
    )


def render_html(board: Board) -> str:
    """The whole page."""
    order = sorted(board.scopes, key=lambda s: (s != "full", s != "bundled-sample", s))
    sections = "".join(scope_section(i, scope, board.scopes[scope]) for i, scope in enumerate(order))
    notes = "".join(f"<li>{html_text(excluded.published())}</li>" for excluded in board.excluded)
    invalid = f"<h2>Excluded files (they fail longrm validate)</h2><ul>{notes}</ul>" if notes else ""
    csp = (
        f"default-src 'none'; script-src {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html_text(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>Long-RewardBench leaderboard</title><style>{STYLE}</style></head><body>"
        "<h1>Long-RewardBench leaderboard</h1>"
        "<p>Scores ×100 (small grey: 95% bootstrap CI, resampled within task files). Task columns: pairwise "
        "accuracy; Rank2–4: best-of-N rank-match; AVG.: all rows. Grey rows are references: "
        "<em>paper</em> = published numbers (arXiv 2510.06915), <em>control</em> = baselines computed "
        "from the data. Click a column header to sort. Every submission was validated (scores and "
        "aggregates recomputed from its per-sample data).</p>"
        f"{sections}{invalid}<script>{SCRIPT}</script></body></html>\n"
    )


def render_markdown(board: Board) -> str:
    """The leaderboard as Markdown (one table per scope, ranked by AVG.)."""
    order = sorted(board.scopes, key=lambda s: (s != "full", s != "bundled-sample", s))
    out = [
        "# Long-RewardBench leaderboard",
        "",
        "Scores ×100; 95% bootstrap CIs in brackets for submissions.",
        "",
    ]
    for scope in order:
        ranked = _ranked(board.scopes[scope])
        out += [f"## {markdown_text(SCOPE_TITLES.get(scope, scope))}", "", markdown_table(ranked, OVERALL)]
        out += [markdown_table(ranked, TABLE2, ci=False)]
        out += [markdown_table(ranked, SUMMARY[:4], ci=False)]
    if board.excluded:
        out += ["## Excluded files (they fail longrm validate)", ""]
        out += [f"- {markdown_text(excluded.published())}" for excluded in board.excluded]
    return "\n".join(out).rstrip() + "\n"


def build_site(
    paths: Sequence[Path],
    out: Path,
    *,
    skip_invalid: bool = False,
    data_dir: Path | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = DEFAULT_SEED,
) -> Board:
    """Write ``index.html`` and ``leaderboard.md`` to ``out``; return what was collected.

    A file that fails validation stops the build (nothing written) unless ``skip_invalid``; then it is
    listed on the page with its reasons.
    """
    board = collect(paths, data_dir=data_dir, iterations=iterations, seed=seed)
    if board.excluded and not skip_invalid:
        raise ReportError(
            "; ".join(map(str, board.excluded))
            + " — nothing written (--skip-invalid builds the page without these files)"
        )
    if not board.scopes:
        raise ReportError("no valid submissions or reference files found; nothing written")
    write_files(out, {"index.html": render_html(board), "leaderboard.md": render_markdown(board)})
    return board
