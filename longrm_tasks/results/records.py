"""Per-sample records of one judged run, whatever harness produced it.

Every figure of a report is computed from these records with the core scorer
(:func:`longrm_tasks.scoring.score_output`, :func:`longrm_tasks.scoring.aggregate`), never copied
from a harness summary; loaders check that the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from ..constants import BEST_OF_N, PAIRWISE, TASK_FILES
from ..errors import LongRMError
from ..scoring import ScoredSample, aggregate, metric_inputs, sample_score, score_output
from ..truncation import NOT_CUT

#: Two floats "agree" when they differ by at most this much (harness JSON round-trips exactly).
TOLERANCE = 1e-9

RowKey = tuple[str, int]
#: Whether the core tracks empty judge outputs (a per-sample flag with its own aggregate).
_HAS_EMPTY_OUTPUT = "empty_output" in {f.name for f in fields(ScoredSample)}


class ReportError(LongRMError, ValueError):
    """A run cannot be reported faithfully (missing files, records that disagree with the harness)."""


@dataclass(frozen=True)
class SampleRecord:
    """One presented row and the judge's verdict on it."""

    task_file: str
    row_index: int
    tasktype: str
    subtype: str
    length_bucket: str
    order: tuple[int, ...]
    prediction: tuple[int, ...]
    score: float
    row_id: int | None = None
    truncation: str = NOT_CUT
    response: str | None = None
    empty_output: bool = False
    #: Context-only truncation cut this row's context (the ``context_cut`` run-health share).
    context_cut: bool = False

    @property
    def key(self) -> RowKey:
        """Identity of the row across runs: task file and index in the file."""
        return (self.task_file, self.row_index)

    @property
    def parsed(self) -> bool:
        return bool(self.prediction)

    def scored(self) -> ScoredSample:
        """The core's view of this record."""
        extra = {"empty_output": self.empty_output} if _HAS_EMPTY_OUTPUT else {}
        return ScoredSample(
            task_file=self.task_file,
            tasktype=self.tasktype,
            subtype=self.subtype,
            length_bucket=self.length_bucket,
            score=self.score,
            parsed=self.parsed,
            truncation=self.truncation,
            context_cut=self.context_cut,
            **extra,
        )


def record_from_response(doc: Mapping[str, Any], response: str) -> SampleRecord:
    """Score a judge's text for a row described by ``doc`` (lm-eval doc fields)."""
    prediction, sample = score_output(
        response,
        task_file=doc["task_file"],
        tasktype=doc["tasktype"],
        subtype=str(doc["subtype"]),
        length_bucket=doc["length_bucket"],
        order=list(doc["order"]),
        truncation=doc.get("truncation") or NOT_CUT,
    )
    record = _record(doc, tuple(prediction), sample.score, response)
    if getattr(sample, "empty_output", False):
        record = SampleRecord(**{**record.__dict__, "empty_output": True})
    return record


def record_from_prediction(doc: Mapping[str, Any], prediction: Sequence[int]) -> SampleRecord:
    """Score a prediction (predicted rank of each slot; ``[]`` = unparsed) for a row."""
    prediction = tuple(int(rank) for rank in prediction)
    return _record(doc, prediction, sample_score(list(doc["order"]), prediction), None)


def _record(
    doc: Mapping[str, Any], prediction: tuple[int, ...], score: float, response: str | None
) -> SampleRecord:
    return SampleRecord(
        task_file=doc["task_file"],
        row_index=int(doc["row_index"]),
        tasktype=doc["tasktype"],
        subtype=str(doc["subtype"]),
        length_bucket=doc["length_bucket"],
        order=tuple(int(rank) for rank in doc["order"]),
        prediction=prediction,
        score=score,
        row_id=doc.get("row_id"),
        truncation=doc.get("truncation") or NOT_CUT,
        response=response,
        context_cut=bool(doc.get("context_cut")),
    )


def metric_counts(samples: Iterable[ScoredSample]) -> dict[str, int]:
    """How many samples count towards each metric (0 = the metric has no rows in this run)."""
    counts: dict[str, int] = {}
    for sample in samples:
        for key, value in metric_inputs(sample).items():
            counts[key] = counts.get(key, 0) + (value is not None)
    return counts


@dataclass
class Run:
    """A judged run: its records, the harness's own aggregates (if any) and its provenance."""

    name: str
    samples: list[SampleRecord]
    source: str
    harness: str
    task: str = ""
    harness_aggregates: dict[str, float] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def scored(self) -> list[ScoredSample]:
        return [record.scored() for record in self.samples]

    def aggregates(self) -> dict[str, float]:
        """Every aggregate of spec §7 (plus the additions), recomputed from the records."""
        return aggregate(self.scored())

    def counts(self) -> dict[str, int]:
        return metric_counts(self.scored())

    def formats(self) -> list[str]:
        present = {record.tasktype for record in self.samples}
        return [tasktype for tasktype in (PAIRWISE, BEST_OF_N) if tasktype in present]

    def by_key(self) -> dict[RowKey, SampleRecord]:
        return {record.key: record for record in self.samples}


def check_records(run: Run) -> None:
    """Structural checks shared by every loader: known task files, unique rows, sane orders."""
    seen: dict[RowKey, int] = {}
    for position, record in enumerate(run.samples):
        where = f"{run.name}: sample {position} ({record.task_file} row {record.row_index})"
        if record.task_file not in TASK_FILES:
            raise ReportError(f"{where}: unknown task file {record.task_file!r}")
        if record.tasktype not in (PAIRWISE, BEST_OF_N):
            raise ReportError(f"{where}: unknown tasktype {record.tasktype!r}")
        if sorted(record.order) != list(range(len(record.order))) or len(record.order) < 2:
            raise ReportError(f"{where}: order {list(record.order)} is not a permutation of the slots")
        if record.key in seen:
            raise ReportError(f"{where}: row logged twice (first as sample {seen[record.key]})")
        seen[record.key] = position


def check_against_harness(run: Run) -> None:
    """Every aggregate the harness reported equals the one recomputed from the records."""
    ours = run.aggregates()
    bad = {
        key: (value, ours[key])
        for key, value in run.harness_aggregates.items()
        if key in ours and abs(ours[key] - value) > TOLERANCE
    }
    if bad:
        detail = ", ".join(
            f"{key}: harness {theirs!r} vs records {mine!r}" for key, (theirs, mine) in bad.items()
        )
        raise ReportError(
            f"{run.name}: the per-sample records do not reproduce the harness aggregates ({detail})"
        )
