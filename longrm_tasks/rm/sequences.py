"""Token sequences a scalar reward model scores (spec §5, with the §6 parity cut)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..truncation.parity import parity_cut


def chat_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of ``messages`` under the tokenizer's chat template, without a generation prompt."""
    encoded = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=False)
    if hasattr(encoded, "keys"):  # transformers 5 returns a BatchEncoding by default
        encoded = encoded["input_ids"]
    if encoded and isinstance(encoded[0], list):
        encoded = encoded[0]
    return [int(token) for token in encoded]


def response_sequences(
    tokenizer: Any, prompt_template: Sequence[dict[str, str]], slots: Sequence[str]
) -> tuple[list[list[int]], list[bool]]:
    """One sequence per presented response: ``prompt_template + [assistant: response]``.

    Returns the ids (parity-cut where 131,072 tokens or longer) and, per sequence, whether it was cut.
    """
    sequences, cut_flags = [], []
    for response in slots:
        ids = chat_ids(tokenizer, [*prompt_template, {"role": "assistant", "content": response}])
        kept = parity_cut(ids)
        sequences.append(ids if kept is None else kept)
        cut_flags.append(kept is not None)
    return sequences, cut_flags


def shared_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the common prefix, leaving at least one own token to every sequence."""
    if not sequences:
        return 0
    limit = min(len(sequence) for sequence in sequences) - 1
    length = 0
    first = sequences[0]
    while length < limit and all(sequence[length] == first[length] for sequence in sequences[1:]):
        length += 1
    return max(length, 0)
