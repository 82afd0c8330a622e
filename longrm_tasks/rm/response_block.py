"""Several responses in one forward pass over a shared cached context (a block attention mask).

Run one at a time, N responses of a few hundred tokens each are N small forward passes whose
matrix products and masked attention run well below the context pass's efficiency; at 4k
tokens that overhead is most of what prefix sharing leaves. Concatenated into one sequence, with a
mask that lets each response see the whole context and its own earlier tokens (never another
response's) and positions that restart at the context's end for each, one pass computes exactly
what N separate passes compute. The reward of each response is read from the score head at its
last token, captured with a forward hook, so the model's own forward runs unchanged.

Only for models where that equivalence is known to hold: a per-token linear score head, SDPA or
eager attention (flash kernels take no custom mask), explicit position ids, and full attention in
every layer (a sliding window would be overridden by the mask). The block is also checked once
per model against one-at-a-time scoring on a tiny input before it is trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The mask holds (response tokens) x (context + response tokens) entries; above this it is built
# for fewer responses at a time (a 4-response block at 16k: ~21 M entries; 128k: one at a time).
MAX_MASK_ENTRIES = 1 << 25


def agree(block: Sequence[float], one_at_a_time: Sequence[float], dtype: Any) -> bool:
    """The self-check: equal to float32 rounding (1e-4 relative), or to half-precision rounding."""
    import torch

    relative, absolute = (1e-4, 1e-6) if dtype == torch.float32 else (3e-2, 1e-3)
    return all(
        abs(a - b) <= max(relative * max(abs(a), abs(b)), absolute)
        for a, b in zip(block, one_at_a_time, strict=True)
    )


def score_head(model: Any) -> Any | None:
    """The per-token score head of a ``*ForSequenceClassification`` model, or None."""
    import torch

    head = getattr(model, "score", None)
    return head if isinstance(head, torch.nn.Linear) else None


def supports_block(model: Any) -> bool:
    """Whether the model's forward is known to honour a custom 4D mask and explicit positions."""
    import inspect

    config = getattr(model, "config", None)
    if config is None or score_head(model) is None:
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


def response_groups(
    lengths: Sequence[int], prefix_length: int, limit: int = MAX_MASK_ENTRIES
) -> list[list[int]]:
    """Consecutive response indices, as many per group as keep the group's mask under ``limit``."""
    groups: list[list[int]] = []
    current: list[int] = []
    tokens = 0
    for index, length in enumerate(lengths):
        grown = tokens + length
        if current and grown * (prefix_length + grown) > limit:
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


def score_block(
    model: Any, suffixes: Sequence[Sequence[int]], prefix_length: int, cache: Any, cache_argument: str
) -> list[float]:
    """Rewards of ``suffixes`` in one forward on top of ``cache`` (which then holds their tokens too)."""
    dtype = next(model.parameters()).dtype
    device = next(model.parameters()).device
    ids, mask, position_ids, last_indices = block_inputs(suffixes, prefix_length, dtype, device)
    captured: list[Any] = []
    hook = score_head(model).register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    try:
        model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=position_ids,
            use_cache=True,
            **{cache_argument: cache},
        )
    finally:
        hook.remove()
    logits = captured[-1] if captured else None
    if logits is None or logits.dim() != 3 or logits.shape[1] != ids.shape[1]:
        raise NotImplementedError("the score head did not see every position")
    return [float(logits[0, index, 0].float()) for index in last_indices]
