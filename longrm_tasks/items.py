"""Judge items: each benchmark row as presented to a judge, in the official run order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .constants import TASK_TYPES
from .data import BenchmarkData
from .order import presentation_orders, presented_slots
from .prompts import judge_messages
from .truncation import UNCHECKED, ParityTruncator


@dataclass
class JudgeItem:
    """One row, presented: the judge's messages plus what scoring needs."""

    uid: str
    task_file: str
    row_index: int
    row_id: int
    tasktype: str
    subtype: str
    length_bucket: str
    order: list[int]
    system_prompt: str
    user_prompt: str
    truncation: str
    prompt_tokens: int | None

    def messages(self) -> list[dict[str, str]]:
        """The chat messages (system + user) for this item."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": self.user_prompt},
        ]

    def to_doc(self) -> dict[str, Any]:
        """Flat dict form, as stored in a harness dataset."""
        return asdict(self)


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


def _row_fields(task_file: str, index: int, row: dict[str, Any], order: list[int]) -> dict[str, Any]:
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


def judge_items(
    data: BenchmarkData,
    formats: Sequence[str] = TASK_TYPES,
    truncator: ParityTruncator | None = None,
) -> list[JudgeItem]:
    """Generative-judge items of ``formats``: files in ``data`` order, rows in official order."""
    items = []
    for task_file, index, row, order in presented_rows(data, formats):
        messages = judge_messages(row["prompt_template"], row["tasktype"], presented_slots(row, order))
        status, tokens = UNCHECKED, None
        if truncator is not None:
            result = truncator.truncate(messages)
            messages, status, tokens = result.messages, result.status, result.prompt_tokens
        items.append(
            JudgeItem(
                **_row_fields(task_file, index, row, order),
                system_prompt=messages[0]["content"],
                user_prompt=messages[1]["content"],
                truncation=status,
                prompt_tokens=tokens,
            )
        )
    return items


@dataclass
class RewardItem:
    """One row for a scalar reward model (spec §5): the conversation and the presented responses."""

    uid: str
    task_file: str
    row_index: int
    row_id: int
    tasktype: str
    subtype: str
    length_bucket: str
    order: list[int]
    prompt_template: list[dict[str, str]]
    slots: list[str]

    def to_doc(self) -> dict[str, Any]:
        """Flat dict form, as stored in a harness dataset."""
        return asdict(self)


def reward_items(data: BenchmarkData, formats: Sequence[str] = TASK_TYPES) -> list[RewardItem]:
    """Scalar-RM items of ``formats``, in the same order and with the same orders as the judge items."""
    return [
        RewardItem(
            **_row_fields(task_file, index, row, order),
            prompt_template=[{"role": m["role"], "content": m["content"]} for m in row["prompt_template"]],
            slots=presented_slots(row, order),
        )
        for task_file, index, row, order in presented_rows(data, formats)
    ]
