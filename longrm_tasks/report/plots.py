"""Figures (matplotlib, Agg backend): accuracy vs context length, and a per-task bar chart."""

from __future__ import annotations

import io
from collections.abc import Sequence

from ..constants import LENGTH_BUCKETS, TASK_FILES
from ..scoring import length_metric, task_metric
from .neutralise import plot_text
from .tables import Entry

FORMATS = ("png", "svg")


def _pyplot():  # imported lazily: matplotlib is an optional extra
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("plots need matplotlib: pip install 'longrm-tasks[report]'") from None
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "longrm"  # reproducible SVG ids
    import matplotlib.pyplot as plt

    return plt


def _rendered(fig, name: str) -> dict[str, bytes]:
    """The figure as ``{name.png: bytes, name.svg: bytes}`` (written by the caller, atomically)."""
    files = {}
    for fmt in FORMATS:
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buffer, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
        files[f"{name}.{fmt}"] = buffer.getvalue()
    return files


def length_curve(runs: Sequence[Entry], name: str, references: Sequence[Entry] = ()) -> dict[str, bytes]:
    """Pairwise accuracy per context-length bucket: one line per run with its 95% bootstrap band.

    Reference entries (paper rows) are drawn dashed, without bands. Returns the PNG and SVG files.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    x = list(range(len(LENGTH_BUCKETS)))
    keys = [length_metric(bucket) for bucket in LENGTH_BUCKETS]
    for entry in runs:
        points = [(i, entry.metrics[k]) for i, k in zip(x, keys, strict=True) if entry.has(k)]
        if not points:
            continue
        (line,) = ax.plot(
            [p[0] for p in points], [100 * p[1] for p in points], marker="o", label=plot_text(entry.name)
        )
        bands = [
            (i, entry.intervals[k])
            for i, k in zip(x, keys, strict=True)
            if entry.has(k) and k in entry.intervals
        ]
        if bands:
            ax.fill_between(
                [b[0] for b in bands],
                [100 * b[1].low for b in bands],
                [100 * b[1].high for b in bands],
                color=line.get_color(),
                alpha=0.18,
                linewidth=0,
            )
    for entry in references:
        points = [(i, entry.metrics[k]) for i, k in zip(x, keys, strict=True) if entry.has(k)]
        if points:
            ax.plot(
                [p[0] for p in points],
                [100 * p[1] for p in points],
                linestyle="--",
                marker=".",
                alpha=0.7,
                label=plot_text(f"{entry.name} ({entry.kind}, full benchmark)"),
            )
    ax.axhline(50, color="grey", linewidth=0.8, linestyle=":", label="chance (pairwise)")
    ax.set_xticks(x, LENGTH_BUCKETS)
    ax.set_xlabel("context length (ctx_length_for_length)")
    ax.set_ylabel("pairwise accuracy (%)")
    ax.set_ylim(0, 104)
    ax.set_title("Long-RewardBench: accuracy vs context length (95% bootstrap bands)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    files = _rendered(fig, name)
    plt.close(fig)
    return files


def task_bars(runs: Sequence[Entry], name: str) -> dict[str, bytes]:
    """Pairwise accuracy per task file and best-of-N rank-match per N, grouped bars with 95% CIs."""
    plt = _pyplot()
    columns = [
        *((task, task_metric(task)) for task in TASK_FILES),
        ("Rank2", "rank2"),
        ("Rank3", "rank3"),
        ("Rank4", "rank4"),
        ("AVG.", "avg"),
    ]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(runs), 1)
    for r, entry in enumerate(runs):
        xs, heights, errors = [], [], [[], []]
        for c, (_, key) in enumerate(columns):
            if not entry.has(key):
                continue
            value = 100 * entry.metrics[key]
            interval = entry.intervals.get(key)
            xs.append(c - 0.4 + width * (r + 0.5))
            heights.append(value)
            errors[0].append(value - 100 * interval.low if interval else 0.0)
            errors[1].append(100 * interval.high - value if interval else 0.0)
        ax.bar(xs, heights, width=width, yerr=errors, capsize=2, label=plot_text(entry.name))
    ax.set_xticks(range(len(columns)), [label for label, _ in columns])
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 108)
    ax.set_title("Per task: pairwise accuracy; Rank2-4: best-of-N rank-match; AVG.: all rows (95% CIs)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    files = _rendered(fig, name)
    plt.close(fig)
    return files
