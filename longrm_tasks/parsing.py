"""Parsing a generative judge's verdict (spec §4, parity mode).

A prediction is the predicted rank of each presented slot (``[0, 1]`` = slot A is better);
``[]`` means the output could not be parsed. The functions never raise on any text.
"""

from __future__ import annotations

import re

from .constants import BEST_OF_N

#: The official ranking regex; its FIRST match is the verdict.
OFFICIAL_RANKING_PATTERN = re.compile(r"\[[\w\s]+(?:\s*>\s*[\w\s]+)+\]")
#: The same language without the redundant ``\s*`` (``\s`` is inside ``[\w\s]``), so it cannot
#: backtrack catastrophically on long whitespace runs. A match must end at the first ``]`` after its
#: ``[``, so both patterns find the identical first match (checked by a property test).
RANKING_PATTERN = re.compile(r"\[[\w\s]+(?:>[\w\s]+)+\]")
#: Outputs with more than this many ``>`` characters are rejected outright.
MAX_RANKING_ARROWS = 9
#: Substrings deleted from every piece of a ranking, in this order.
_PIECE_NOISE = ("assistant", "Assistant", ":", " ")


def parse_pairwise(text: str) -> list[int]:
    """``[[A]]`` anywhere wins (checked first), then ``[[B]]``; otherwise unparsed."""
    if not isinstance(text, str):
        return []
    if "[[A]]" in text:
        return [0, 1]
    if "[[B]]" in text:
        return [1, 0]
    return []


def parse_ranking(text: str) -> list[int]:
    """Best-of-N ranking such as ``[[C>A>B]]`` → rank of each slot (``[1, 2, 0]``)."""
    if not isinstance(text, str) or text.count(">") > MAX_RANKING_ARROWS:
        return []
    match = RANKING_PATTERN.search(text)
    if match is None:
        return []
    pieces = match.group(0).split(">")
    for noise in _PIECE_NOISE:
        pieces = [piece.replace(noise, "") for piece in pieces]
    pieces[0] = pieces[0].strip("[")
    pieces[-1] = pieces[-1].strip("]")
    if any(len(piece) != 1 for piece in pieces):
        return []
    ranked_slots = [ord(piece) - 65 for piece in pieces]
    if sorted(ranked_slots) != list(range(len(ranked_slots))):
        return []
    return [ranked_slots.index(slot) for slot in range(len(ranked_slots))]


def parse_verdict(text: str, tasktype: str) -> list[int]:
    """Parse ``text`` with the rule of the row's format."""
    return parse_ranking(text) if tasktype == BEST_OF_N else parse_pairwise(text)


def ranks_from_rewards(rewards: list[float]) -> list[int]:
    """Scalar-RM prediction (spec §5): slots sorted by reward, descending, ties → earlier slot."""
    ranked_slots = sorted(range(len(rewards)), key=lambda slot: rewards[slot], reverse=True)
    return [ranked_slots.index(slot) for slot in range(len(rewards))]
