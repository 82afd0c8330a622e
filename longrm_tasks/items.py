"""Judge items: each benchmark row as presented to a judge, in the official run order."""

from __future__ import annotations

from collections.abc import Sequence
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


def judge_items(
    data: BenchmarkData,
    formats: Sequence[str] = TASK_TYPES,
    truncator: ParityTruncator | None = None,
) -> list[JudgeItem]:
    """Items of ``formats`` for every task file, files in ``data`` order, rows in official order.

    Orders are drawn over the whole file before filtering formats (spec §2).
    """
    items = []
    for task_file, rows in data.rows.items():
        for index, order in presentation_orders(rows):
            row = rows[index]
            if row["tasktype"] not in formats:
                continue
            messages = judge_messages(row["prompt_template"], row["tasktype"], presented_slots(row, order))
            status, tokens = UNCHECKED, None
            if truncator is not None:
                result = truncator.truncate(messages)
                messages, status, tokens = result.messages, result.status, result.prompt_tokens
            items.append(
                JudgeItem(
                    uid=f"{task_file}-{index}",
                    task_file=task_file,
                    row_index=index,
                    row_id=row["id"],
                    tasktype=row["tasktype"],
                    subtype=str(row["subtype"]),
                    length_bucket=row["ctx_length_for_length"],
                    order=order,
                    system_prompt=messages[0]["content"],
                    user_prompt=messages[1]["content"],
                    truncation=status,
                    prompt_tokens=tokens,
                )
            )
    return items
