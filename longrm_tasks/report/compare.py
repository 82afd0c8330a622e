"""``longrm compare A B``: paired per-sample comparison of two runs on the rows they share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..constants import TASK_FILES
from ..results.records import ReportError, RowKey, Run, metric_counts
from ..scoring import (
    METRIC_REDUCERS,
    PAIRWISE_METRICS,
    PAPER_COLUMNS,
    ScoredSample,
    aggregate,
    mean_of_present,
    metric_inputs,
)
from .neutralise import markdown_text
from .stats import DEFAULT_ITERATIONS, DEFAULT_SEED, holm, mcnemar_exact, paired_bootstrap

ALPHA = 0.05
MCNEMAR, BOOTSTRAP = "McNemar (exact)", "paired bootstrap"

#: Subsets tested, headline first: (metric key, label, pairwise = 0/1 scores → McNemar). A subset is a
#: paper column whose reducer is a micro mean over the rows that count for it (L-Avg., a mean of
#: bucket means, is not a subset of rows); which rows count is :func:`scoring.metric_inputs`' answer.
SUBSETS: tuple[tuple[str, str, bool], ...] = tuple(
    (key, label, key in PAIRWISE_METRICS)
    for label, key in sorted(PAPER_COLUMNS.items(), key=lambda column: column[1] != "avg")
    if METRIC_REDUCERS[key] is mean_of_present
)


@dataclass(frozen=True)
class ComparisonRow:
    """One subset: both runs' scores, A − B with its CI, the test, raw and Holm-adjusted p."""

    key: str
    label: str
    n: int
    a: float
    b: float
    difference: float
    low: float
    high: float
    test: str
    only_a: int | None
    only_b: int | None
    p_value: float
    p_holm: float = 1.0
    significant: bool = False


@dataclass
class Comparison:
    """All subsets of a comparison, with what was compared and how."""

    name_a: str
    name_b: str
    shared: int
    only_in_a: int
    only_in_b: int
    alpha: float
    iterations: int
    seed: int
    rows: list[ComparisonRow] = field(default_factory=list)

    def significant(self) -> list[ComparisonRow]:
        return [row for row in self.rows if row.significant]

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "rows"},
            "rows": [asdict(r) for r in self.rows],
        }


def _row_order(key: RowKey) -> tuple[int, int]:
    return (TASK_FILES.index(key[0]), key[1])


def shared_rows(a: Run, b: Run) -> list[RowKey]:
    """Keys present in both runs; the runs must present each shared row identically."""
    rows_a, rows_b = a.by_key(), b.by_key()
    keys = sorted(set(rows_a) & set(rows_b), key=_row_order)
    for key in keys:
        x, y = rows_a[key], rows_b[key]
        if (x.tasktype, x.subtype, x.length_bucket, x.order) != (
            y.tasktype,
            y.subtype,
            y.length_bucket,
            y.order,
        ):
            raise ReportError(
                f"{key[0]} row {key[1]} is presented differently in {a.name} and {b.name} "
                f"(order {list(x.order)} vs {list(y.order)}): were they run on different data?"
            )
    return keys


def compare_runs(
    a: Run, b: Run, *, iterations: int = DEFAULT_ITERATIONS, seed: int = DEFAULT_SEED, alpha: float = ALPHA
) -> Comparison:
    """Paired bootstrap for every subset, exact McNemar for pairwise subsets, Holm across subsets."""
    keys = shared_rows(a, b)
    if not keys:
        raise ReportError(f"{a.name} and {b.name} share no rows")
    rows_a, rows_b = a.by_key(), b.by_key()
    samples_a = [rows_a[key].scored() for key in keys]
    samples_b = [rows_b[key].scored() for key in keys]
    differences = paired_bootstrap(samples_a, samples_b, iterations=iterations, seed=seed)
    counts = metric_counts(samples_a)
    inputs_a = [metric_inputs(sample) for sample in samples_a]
    inputs_b = [metric_inputs(sample) for sample in samples_b]
    tested: list[ComparisonRow] = []
    for key, label, pairwise in SUBSETS:
        if not counts.get(key):
            continue
        diff = differences[key]
        only_a = only_b = None
        p_value, test = diff.p_value, BOOTSTRAP
        if pairwise:
            members = [
                (x[key], y[key]) for x, y in zip(inputs_a, inputs_b, strict=True) if x[key] is not None
            ]
            only_a = sum(1 for x, y in members if x > y)
            only_b = sum(1 for x, y in members if y > x)
            p_value, test = mcnemar_exact(only_a, only_b), MCNEMAR
        tested.append(
            ComparisonRow(
                key=key,
                label=label,
                n=counts[key],
                a=_point(samples_a, key),
                b=_point(samples_b, key),
                difference=diff.difference,
                low=diff.low,
                high=diff.high,
                test=test,
                only_a=only_a,
                only_b=only_b,
                p_value=p_value,
            )
        )
    adjusted = holm([row.p_value for row in tested])
    rows = [
        ComparisonRow(**{**asdict(row), "p_holm": p, "significant": p < alpha})
        for row, p in zip(tested, adjusted, strict=True)
    ]
    return Comparison(
        name_a=a.name,
        name_b=b.name,
        shared=len(keys),
        only_in_a=len(rows_a) - len(keys),
        only_in_b=len(rows_b) - len(keys),
        alpha=alpha,
        iterations=iterations,
        seed=seed,
        rows=rows,
    )


def _point(samples: list[ScoredSample], key: str) -> float:
    return aggregate(samples, [key])[key]


def _p(value: float) -> str:
    return f"{value:.2e}" if value < 1e-3 else f"{value:.3f}"


def comparison_markdown(comparison: Comparison) -> str:
    """The comparison as a Markdown table (scores ×100) with a one-line verdict."""
    c = comparison
    lines = [
        f"## {markdown_text(c.name_a)} (A) vs {markdown_text(c.name_b)} (B)",
        "",
        f"{c.shared} shared rows (only in A: {c.only_in_a}, only in B: {c.only_in_b}); "
        f"paired bootstrap {c.iterations} replicates (seed {c.seed}, stratified by task file); "
        f"exact McNemar on pairwise subsets; Holm correction over the {len(c.rows)} subsets; "
        f"alpha {c.alpha}.",
        "",
        "| subset | n | A | B | A − B | 95% CI | test | A only / B only | p | p (Holm) | significant |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---|",
    ]
    for r in c.rows:
        discordant = f"{r.only_a} / {r.only_b}" if r.only_a is not None else "—"
        lines.append(
            f"| {r.label} | {r.n} | {100 * r.a:.1f} | {100 * r.b:.1f} | {100 * r.difference:+.1f} | "
            f"[{100 * r.low:+.1f}, {100 * r.high:+.1f}] | {r.test} | {discordant} | {_p(r.p_value)} | "
            f"{_p(r.p_holm)} | {'**yes**' if r.significant else 'no'} |"
        )
    flagged = c.significant()
    lines += [
        "",
        "Significant after Holm: " + (", ".join(r.label for r in flagged) if flagged else "none") + ".",
    ]
    return "\n".join(lines) + "\n"
