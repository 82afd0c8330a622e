"""Runs that complete each other: one model's run split over several tasks (or processes, machines)
is one row of a report.

A judge run may be split by format (``longrewardbench_pairwise`` and ``longrewardbench_bon``, in one
lm-eval call or in several) or by rows (lm-eval's ``--samples``, e.g. one process per core or
machine). The parts are one run when everything their results depend on is the same (the provenance
of each, but for the task's name, its formats, the date and the server's address) and no row is in
two of them; the merged run keeps each part's checked harness aggregates and where it came from.
Anything else (the same rows twice, another model or setting) stays apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .records import Run

#: Provenance fields that differ between the parts of one run.
PART_FIELDS = ("task", "formats", "date")
#: model_args that say where and how requests were sent, not what answered them: the parts of one run
#: may go to two servers of the same model (two machines, or one server restarted on another port).
TRANSPORT_ARGS = ("base_url", "num_concurrent", "max_retries", "timeout")


def _kind(run: Run) -> str:
    """A generative judge's run keeps the judge's text; a reward run keeps rankings only."""
    return "judge" if any(record.response is not None for record in run.samples) else "reward"


def _settings(run: Run) -> tuple[Any, ...]:
    """What the parts of one run share (compared by value)."""
    shared = {key: value for key, value in run.provenance.items() if key not in PART_FIELDS}
    if isinstance(shared.get("model_args"), dict):
        shared["model_args"] = {k: v for k, v in shared["model_args"].items() if k not in TRANSPORT_ARGS}
    return (run.name, run.harness, _kind(run), repr(sorted(shared.items())))


def _disjoint(runs: Sequence[Run]) -> bool:
    seen: set[Any] = set()
    for run in runs:
        keys = set(run.by_key())
        if keys & seen:
            return False
        seen |= keys
    return True


def merge(parts: Sequence[Run]) -> Run:
    """One run of complementary ``parts`` (in the order given)."""
    first = parts[0]
    formats: list[str] = []
    for part in parts:
        formats += [
            value for value in part.provenance.get("formats") or part.formats() if value not in formats
        ]
    dates = [str(part.provenance.get("date")) for part in parts if part.provenance.get("date") is not None]
    task = "+".join(dict.fromkeys(part.task for part in parts))  # halves of one task: its name once
    provenance = dict(first.provenance) | {
        "task": task,
        "formats": formats,
        "date": max(dates) if dates else None,
        "parts": [
            {
                "task": part.task,
                "rows": len(part.samples),
                "source": part.source,
                "date": part.provenance.get("date"),
            }
            for part in parts
        ],
    }
    return Run(
        name=first.name,
        samples=[record for part in parts for record in part.samples],
        source=", ".join(part.source for part in parts),
        harness=first.harness,
        task=task,
        harness_aggregates={
            f"{number}:{part.task}/{key}": value
            for number, part in enumerate(parts, start=1)
            for key, value in part.harness_aggregates.items()
        },
        provenance=provenance,
    )


def join_parts(runs: Sequence[Run]) -> list[Run]:
    """``runs`` with each set of complementary parts merged into one (in first-seen order)."""
    settings = [_settings(run) for run in runs]
    groups: dict[tuple[Any, ...], list[Run]] = {}
    for key, run in zip(settings, runs, strict=True):
        groups.setdefault(key, []).append(run)
    joined: list[Run] = []
    for key, run in zip(settings, runs, strict=True):
        group = groups.get(key)
        if group is None:
            continue  # already placed with its group
        if len(group) > 1 and _disjoint(group):
            joined.append(merge(group))
            del groups[key]
        else:
            joined.append(run)
    return joined
