"""Presentation: each benchmark row as shown to a judge (or a scalar RM), in the official run order.

These documents are harness-free and identical in every harness; the prompt each model finally receives
is settled from them by :mod:`longrm_tasks.run` (rendering, truncation, length checks).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .constants import TASK_TYPES
from .data import BenchmarkData
from .order import presentation_orders, presented_slots
from .prompts import QUESTION_PREFIX, context_text, system_prompt, user_prompt
from .truncation import UNCHECKED


def presented_rows(
    data: BenchmarkData, formats: Sequence[str] = TASK_TYPES
) -> Iterator[tuple[str, int, dict[str, Any], list[int]]]:
    """``(task_file, file_index, row, order)`` for rows of ``formats``, in the official run order.

    Orders are drawn over the whole file before filtering formats (spec §2).
    """
    for task_file, rows in data.rows.items():
        for index, order in presentation_orders(rows):
            if rows[index]["tasktype"] in formats:
                yield task_file, index, rows[index], order


def row_fields(task_file: str, index: int, row: dict[str, Any], order: list[int]) -> dict[str, Any]:
    """What every document carries about its row: identity, format, subtype, length bucket, order."""
    return {
        "uid": f"{task_file}-{index}",
        "task_file": task_file,
        "row_index": index,
        "row_id": row["id"],
        "tasktype": row["tasktype"],
        "subtype": str(row["subtype"]),
        "length_bucket": row["ctx_length_for_length"],
        "order": order,
    }


@dataclass
class PresentedRow:
    """What every document says about its row (the fields of :func:`row_fields`)."""

    uid: str
    task_file: str
    row_index: int
    row_id: int
    tasktype: str
    subtype: str
    length_bucket: str
    order: list[int]

    def to_doc(self) -> dict[str, Any]:
        """Flat dict form, as stored in a harness dataset (lists copied, texts shared: ``asdict`` would
        deep-copy every field of 1,900 documents)."""
        return {
            name: [dict(x) if isinstance(x, dict) else x for x in value] if isinstance(value, list) else value
            for name, value in vars(self).items()
        }


@dataclass
class JudgeItem(PresentedRow):
    """One row, presented to a generative judge: its two messages plus what scoring needs.

    ``context_end`` is where the long context ends in ``user_prompt`` (it starts after
    :data:`~longrm_tasks.prompts.QUESTION_PREFIX`); ``question`` is the row's ``question`` field, which
    context-only truncation never cuts. The last five fields are filled in when the prompt is settled
    for a model.
    """

    system_prompt: str
    user_prompt: str
    context_end: int
    question: str
    truncation: str = UNCHECKED
    prompt_tokens: int | None = None
    system_placement: str | None = None
    prompt_sha256: str | None = None
    context_cut: bool = False

    def messages(self) -> list[dict[str, str]]:
        """The chat messages (system + user) for this item, before any placement decision."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": self.user_prompt},
        ]


def judge_item(task_file: str, index: int, row: dict[str, Any], order: list[int], question: str) -> JudgeItem:
    """The judge item of one presented row whose user message shows ``question`` as the context."""
    slots = presented_slots(row, order)
    return JudgeItem(
        **row_fields(task_file, index, row, order),
        system_prompt=system_prompt(row["tasktype"], len(slots)),
        user_prompt=user_prompt(question, slots),
        context_end=len(QUESTION_PREFIX) + len(question),
        question=str(row.get("question") or ""),
    )


def judge_items(data: BenchmarkData, formats: Sequence[str] = TASK_TYPES) -> list[JudgeItem]:
    """Generative-judge items of ``formats``: files in ``data`` order, rows in official order."""
    return [
        judge_item(task_file, index, row, order, context_text(row["prompt_template"]))
        for task_file, index, row, order in presented_rows(data, formats)
    ]


@dataclass
class RewardItem(PresentedRow):
    """One row for a scalar reward model (spec §5): the conversation and the presented responses."""

    prompt_template: list[dict[str, str]]
    slots: list[str]


def reward_items(data: BenchmarkData, formats: Sequence[str] = TASK_TYPES) -> list[RewardItem]:
    """Scalar-RM items of ``formats``, in the same order and with the same orders as the judge items."""
    return [
        RewardItem(
            **row_fields(task_file, index, row, order),
            prompt_template=[{"role": m["role"], "content": m["content"]} for m in row["prompt_template"]],
            slots=presented_slots(row, order),
        )
        for task_file, index, row, order in presented_rows(data, formats)
    ]
