"""The official seeded presentation order (spec §2).

The random stream depends on every row of a task file, so orders are always drawn over the whole
file (both formats) and only then filtered: a pairwise-only or ``--limit`` run shows each row
exactly as the full run does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from .constants import BEST_OF_N, ORDER_SEED


def slot_count(row: Mapping[str, Any]) -> int:
    """Number of presented responses: 2 for pairwise rows, N for best-of-N rows."""
    return len(row["candidates"]) if row["tasktype"] == BEST_OF_N else 2


def presentation_orders(rows: Sequence[Mapping[str, Any]]) -> list[tuple[int, list[int]]]:
    """Return ``(file_index, order)`` for every row of one task file, in the official run order.

    ``order[p]`` is the gold rank of the response shown in slot ``p`` (letter ``chr(65 + p)``).
    """
    rng = random.Random(ORDER_SEED)
    indices = list(range(len(rows)))
    rng.shuffle(indices)
    result = []
    for index in indices:
        order = list(range(slot_count(rows[index])))
        rng.shuffle(order)
        result.append((index, order))
    return result


def gold_answers(row: Mapping[str, Any]) -> list[str]:
    """Responses by gold rank: ``[chosen, rejected]`` or the best-first candidates."""
    return list(row["candidates"]) if row["tasktype"] == BEST_OF_N else [row["chosen"], row["rejected"]]


def presented_slots(row: Mapping[str, Any], order: Sequence[int]) -> list[str]:
    """The responses in presented order: slot ``p`` shows ``answers[order[p]]``."""
    answers = gold_answers(row)
    return [answers[rank] for rank in order]
