"""Controls beyond the paper (opt-in, never part of parity numbers): position-bias audits and the
no-context ablation.

**Position-bias audit.** Every row is judged in several presentation orders: pairwise rows in both
orders, best-of-N rows in all N cyclic rotations of the official order (variant 0 is the official
order). The gold-best response then sits in every slot equally often, so a slot-selection rate away
from 1/N is position bias, whatever the judge's accuracy. Every variant of a row shows the same
system prompt and the same (possibly cut) context before the responses, so a server with prefix
caching pays for the long context once per row.

**No-context ablation.** The judge sees the question alone (the row's ``question`` field, else the
context's last paragraph) instead of the long context; the gap to the parity score is how much the
judge uses the context.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .constants import BEST_OF_N, BEST_OF_N_SIZES, PAIRWISE, TASK_TYPES
from .data import BenchmarkData
from .items import judge_item, presented_rows, row_fields
from .order import gold_answers
from .parsing import parse_verdict
from .prompts import context_text, slot_letter, system_prompt, user_prompt, user_prompt_frame
from .scoring import exact_match, mean_of_present, sample_score
from .truncation import NOT_CUT, UNCHECKED

NO_CONTEXT = "question-only"

# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def variant_orders(order: Sequence[int], tasktype: str) -> list[list[int]]:
    """Presentation orders of a row's audit: the official ``order`` first, then pairwise the
    swapped order, best-of-N the other cyclic rotations (variant ``r`` shows in slot ``p`` what the
    official order shows in slot ``(p + r) % N``)."""
    order = list(order)
    if tasktype != BEST_OF_N:
        return [order, order[::-1]]
    return [order[r:] + order[:r] for r in range(len(order))]


def variant_user_prompt(doc: Mapping[str, Any], variant: int, context: str | None = None) -> str:
    """User message of one variant of an audit document (``context`` replaces the document's)."""
    answers = doc["answers"]
    shown = doc["context"] if context is None else context
    return user_prompt(shown, [answers[rank] for rank in doc["orders"][variant]])


def variant_frame(doc: Mapping[str, Any], variant: int) -> tuple[str, str]:
    """The user message of one variant before and after its context."""
    return user_prompt_frame([doc["answers"][rank] for rank in doc["orders"][variant]])


def audit_docs(data: BenchmarkData, formats: Sequence[str] = TASK_TYPES) -> list[dict[str, Any]]:
    """One document per row with all its presentation variants, in the official run order (uncut; the
    context is cut once per row, shared by all variants, when the prompts are settled)."""
    docs = []
    for task_file, index, row, order in presented_rows(data, formats):
        docs.append(
            {
                **row_fields(task_file, index, row, order),
                "orders": variant_orders(order, row["tasktype"]),
                "answers": gold_answers(row),
                "system_prompt": system_prompt(row["tasktype"], len(order)),
                "context": context_text(row["prompt_template"]),
                "question": str(row.get("question") or ""),
                "truncation": UNCHECKED,
                "prompt_tokens": None,
                "system_placement": None,
            }
        )
    return docs


def question_only(row: Mapping[str, Any]) -> str:
    """What the no-context ablation shows instead of the context: the row's ``question`` field,
    else the context's last paragraph."""
    question = str(row.get("question") or "").strip()
    if question:
        return question
    return context_text(row["prompt_template"]).rsplit("\n\n", 1)[-1].strip()


def nocontext_docs(data: BenchmarkData, formats: Sequence[str] = TASK_TYPES) -> list[dict[str, Any]]:
    """Judge documents (fields of :class:`~longrm_tasks.items.JudgeItem`) with the question alone."""
    return [
        {**judge_item(task_file, index, row, order, question_only(row)).to_doc(), "context_shown": NO_CONTEXT}
        for task_file, index, row, order in presented_rows(data, formats)
    ]


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditSample:
    """A row's verdicts in every presentation variant."""

    task_file: str
    tasktype: str
    subtype: str
    length_bucket: str
    orders: tuple[tuple[int, ...], ...]
    predictions: tuple[tuple[int, ...], ...]
    truncation: str = NOT_CUT
    context_cut: bool = False

    @property
    def n(self) -> int:
        return len(self.orders[0])


def audit_sample(outputs: Sequence[str], doc: Mapping[str, Any]) -> AuditSample:
    """Parse the judge's output of every variant of an audit document."""
    orders = tuple(tuple(order) for order in doc["orders"])
    if len(outputs) != len(orders):
        raise ValueError(f"{doc.get('uid')}: {len(outputs)} outputs for {len(orders)} variants")
    return AuditSample(
        task_file=doc["task_file"],
        tasktype=doc["tasktype"],
        subtype=str(doc["subtype"]),
        length_bucket=doc["length_bucket"],
        orders=orders,
        predictions=tuple(tuple(parse_verdict(text, doc["tasktype"])) for text in outputs),
        truncation=doc.get("truncation", NOT_CUT),
        context_cut=bool(doc.get("context_cut")),
    )


def gold_space_verdict(order: Sequence[int], prediction: Sequence[int]) -> tuple[int, ...] | None:
    """Predicted rank of each response by gold rank (order-free), or ``None`` when incomplete."""
    if len(prediction) != len(order):
        return None
    return tuple(prediction[list(order).index(gold)] for gold in range(len(order)))


def top_slot(prediction: Sequence[int]) -> int | None:
    """Slot the judge ranked first (``None`` for an unparsed output)."""
    return list(prediction).index(0) if 0 in prediction else None


#: Row-level metrics, reported overall and per format (``pairwise_…`` / ``bon_…``).
_ROW_METRICS = ("order_avg", "consistent_acc", "consistency", "spread")
_PAIRWISE_SLOTS = tuple(f"slot_{slot_letter(p).lower()}" for p in range(2))
_BON_SLOTS = tuple(f"rank{n}_slot_{slot_letter(p).lower()}" for n in BEST_OF_N_SIZES for p in range(n))
#: Every audit metric key. ``official_avg`` scores variant 0 only: for the same judge outputs it is
#: the parity task's ``avg``.
AUDIT_METRICS: tuple[str, ...] = (
    *_ROW_METRICS,
    "official_avg",
    *(f"pairwise_{key}" for key in _ROW_METRICS),
    *(f"bon_{key}" for key in _ROW_METRICS),
    "bon_exact",
    *_PAIRWISE_SLOTS,
    *_BON_SLOTS,
    "parse_fail",
    "context_cut",
    "trunc_unchecked",
)
AUDIT_LOWER_IS_BETTER = frozenset(
    {"spread", "pairwise_spread", "bon_spread", "parse_fail", "context_cut", "trunc_unchecked"}
)
#: Slot-selection rates: 1/N means no position preference (neither higher nor lower is better).
AUDIT_SLOT_METRICS = frozenset({*_PAIRWISE_SLOTS, *_BON_SLOTS})


def audit_metric_keys(formats: Sequence[str]) -> list[str]:
    """Audit metric keys that apply to a task over ``formats``."""
    pairwise, bon = PAIRWISE in formats, BEST_OF_N in formats
    keys = []
    for key in AUDIT_METRICS:
        if key.startswith(("pairwise_", "slot_")) and not pairwise:
            continue
        if key.startswith(("bon_", "rank")) and not bon:
            continue
        keys.append(key)
    return keys


def ratio_of_sums(values: Iterable[Any]) -> float:
    """Sum of numerators over sum of denominators of ``(numerator, denominator)`` inputs (0 if none)."""
    present = [value for value in values if value is not None]
    return sum(num for num, _ in present) / max(sum(den for _, den in present), 1)


def audit_metric_inputs(sample: AuditSample) -> dict[str, Any]:
    """Per-metric value of one audited row for every audit metric (``None`` = not counted)."""
    pairwise = sample.tasktype == PAIRWISE
    pairs = list(zip(sample.orders, sample.predictions, strict=True))
    scores = [sample_score(order, pred) for order, pred in pairs]
    exact = [exact_match(order, pred) for order, pred in pairs]
    verdicts = [gold_space_verdict(order, pred) for order, pred in pairs]
    row = {
        "order_avg": sum(scores) / len(scores),
        "consistent_acc": 1.0 if all(exact) else 0.0,
        "consistency": 1.0 if verdicts[0] is not None and len(set(verdicts)) == 1 else 0.0,
        "spread": max(scores) - min(scores),
    }
    values: dict[str, Any] = dict(row)
    values["official_avg"] = scores[0]
    for key, value in row.items():
        values[f"pairwise_{key}"] = value if pairwise else None
        values[f"bon_{key}"] = None if pairwise else value
    values["bon_exact"] = None if pairwise else sum(exact) / len(exact)
    tops = [top_slot(pred) for pred in sample.predictions]
    chosen = [top for top in tops if top is not None]
    for p, key in enumerate(_PAIRWISE_SLOTS):
        values[key] = (sum(top == p for top in chosen), len(chosen)) if pairwise else None
    for key in _BON_SLOTS:
        n, letter = int(key[4]), key[-1]
        applies = not pairwise and sample.n == n
        slot = ord(letter.upper()) - 65
        values[key] = (sum(top == slot for top in chosen), len(chosen)) if applies else None
    values["parse_fail"] = sum(not pred for pred in sample.predictions) / len(sample.predictions)
    values["context_cut"] = 1.0 if sample.context_cut else 0.0
    values["trunc_unchecked"] = 1.0 if sample.truncation == UNCHECKED else 0.0
    return values


#: Aggregation of each audit metric over the per-row values of :func:`audit_metric_inputs`.
AUDIT_REDUCERS: dict[str, Callable[[Iterable[Any]], float]] = {
    key: (ratio_of_sums if key in AUDIT_SLOT_METRICS else mean_of_present) for key in AUDIT_METRICS
}


def audit_aggregate(samples: Iterable[AuditSample], metrics: Sequence[str] | None = None) -> dict[str, float]:
    """Every audit aggregate (or those named in ``metrics``) over ``samples``."""
    inputs = [audit_metric_inputs(sample) for sample in samples]
    keys = list(metrics) if metrics is not None else list(AUDIT_METRICS)
    return {key: AUDIT_REDUCERS[key](values[key] for values in inputs) for key in keys}
