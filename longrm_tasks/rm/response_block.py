"""Several responses in one forward pass over a shared cached context (a block attention mask).

Run one at a time, N responses of a few hundred tokens each are N small forward passes whose
matrix products and masked attention run well below the context pass's efficiency; at 4k
tokens that overhead is most of what prefix sharing leaves. Concatenated into one sequence, with a
mask that lets each response see the whole context and its own earlier tokens (never another
response's) and positions that restart at the context's end for each, one pass computes exactly
what N separate passes compute. A classifier's reward is read from its score head at each response's
last token, captured with a forward hook, so the model's own forward runs unchanged; a causal LM's
next-token logits at every response position come out of the forward directly (``implicit``).

Only for models where that equivalence is known to hold: SDPA or eager attention (flash kernels take
no custom mask), explicit position ids, and full attention in every layer (a sliding window would be
overridden by the mask); for classifiers, a per-token linear score head. The block is also checked
once per model against one-at-a-time scoring on a tiny input before it is trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The mask holds (response tokens) x (context + response tokens) entries; above this it is built
# for fewer responses at a time (a 4-response block at 16k: ~21 M entries; 128k: one at a time).
MAX_MASK_ENTRIES = 1 << 25


def agree(
    block: Sequence[float], one_at_a_time: Sequence[float], dtype: Any, float32_relative: float = 1e-4
) -> bool:
    """The self-check: equal to float32 rounding (``float32_relative``), or to half-precision rounding."""
    import torch

    relative, absolute = (float32_relative, 1e-6) if dtype == torch.float32 else (3e-2, 1e-3)
    return all(
        abs(a - b) <= max(relative * max(abs(a), abs(b)), absolute)
        for a, b in zip(block, one_at_a_time, strict=True)
    )


def score_head(model: Any) -> Any | None:
    """The per-token score head of a ``*ForSequenceClassification`` model, or None."""
    import torch

    head = getattr(model, "score", None)
    return head if isinstance(head, torch.nn.Linear) else None


def honours_block_mask(model: Any) -> bool:
    """Whether the model's forward is known to honour a custom 4D mask and explicit positions."""
    import inspect

    config = getattr(model, "config", None)
    if config is None:
        return False
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(config, "_attn_implementation", None) not in ("sdpa", "eager"):
        return False
    if "position_ids" not in inspect.signature(model.forward).parameters:
        return False
    layer_types = getattr(text, "layer_types", None)
    if layer_types is not None:
        return all(kind == "full_attention" for kind in layer_types)
    return not getattr(text, "sliding_window", None) or getattr(text, "use_sliding_window", True) is False


def supports_block(model: Any) -> bool:
    """A classifier whose rewards a block pass can read: a per-token score head, and the mask honoured."""
    return score_head(model) is not None and honours_block_mask(model)


def response_groups(
    lengths: Sequence[int], prefix_length: int, limit: int = MAX_MASK_ENTRIES, max_tokens: int | None = None
) -> list[list[int]]:
    """Consecutive response indices, as many per group as keep the group's mask under ``limit`` (and its
    tokens at or under ``max_tokens``, when the caller keeps an output as wide as a vocabulary per token)."""
    groups: list[list[int]] = []
    current: list[int] = []
    tokens = 0
    for index, length in enumerate(lengths):
        grown = tokens + length
        too_many = max_tokens is not None and grown > max_tokens
        if current and (grown * (prefix_length + grown) > limit or too_many):
            groups.append(current)
            current, tokens, grown = [], 0, length
        current.append(index)
        tokens = grown
    if current:
        groups.append(current)
    return groups


def block_inputs(suffixes: Sequence[Sequence[int]], prefix_length: int, dtype: Any, device: Any) -> tuple:
    """``(input_ids, mask, position_ids, last_indices)`` for responses ``suffixes`` after a cached prefix.

    The mask is additive (0 = attend, the dtype's minimum = masked), shaped (1, 1, queries, keys), the
    form both SDPA and eager attention take as given.
    """
    import torch

    total = sum(len(suffix) for suffix in suffixes)
    blocked = torch.finfo(dtype).min
    mask = torch.full((total, prefix_length + total), blocked, dtype=dtype, device=device)
    mask[:, :prefix_length] = 0
    positions, last_indices, offset = [], [], 0
    for suffix in suffixes:
        length = len(suffix)
        start = prefix_length + offset
        causal = torch.full((length, length), blocked, dtype=dtype, device=device).triu(1)
        mask[offset : offset + length, start : start + length] = causal
        positions.extend(range(prefix_length, prefix_length + length))
        offset += length
        last_indices.append(offset - 1)
    ids = torch.tensor([[token for suffix in suffixes for token in suffix]], dtype=torch.long, device=device)
    position_ids = torch.tensor([positions], dtype=torch.long, device=device)
    return ids, mask[None, None], position_ids, last_indices


def run_block(
    model: Any,
    suffixes: Sequence[Sequence[int]],
    prefix_length: int,
    cache: Any,
    cache_argument: str,
    **extra: Any,
) -> tuple[Any, list[int]]:
    """One forward of ``suffixes`` on top of ``cache`` (which then holds their tokens too): the model's
    output and the index of each suffix's last token in it."""
    parameter = next(model.parameters())
    ids, mask, position_ids, last_indices = block_inputs(
        suffixes, prefix_length, parameter.dtype, parameter.device
    )
    output = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=position_ids,
        use_cache=True,
        **{cache_argument: cache},
        **extra,
    )
    return output, last_indices


def score_block(
    model: Any, suffixes: Sequence[Sequence[int]], prefix_length: int, cache: Any, cache_argument: str
) -> list[float]:
    """Rewards of ``suffixes`` in one forward on top of ``cache`` (which then holds their tokens too)."""
    captured: list[Any] = []
    hook = score_head(model).register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    try:
        _, last_indices = run_block(model, suffixes, prefix_length, cache, cache_argument)
    finally:
        hook.remove()
    logits = captured[-1] if captured else None
    total = sum(len(suffix) for suffix in suffixes)
    if logits is None or logits.dim() != 3 or logits.shape[1] != total:
        raise NotImplementedError("the score head did not see every position")
    return [float(logits[0, index, 0].float()) for index in last_indices]
