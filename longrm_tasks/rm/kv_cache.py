"""The key/value cache of a shared context: built once, cut back after each response.

Scalar reward models (``scorer``) and implicit rewards (``implicit``) both run a row's context once and
its responses on top of the cached keys and values; these are the few calls that differ between
transformers versions, in one place.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any


def model_device(model: Any) -> Any:
    return next(model.parameters()).device


def as_batch(ids: Sequence[int], device: Any) -> Any:
    """``ids`` as a batch of one (no padding, ever)."""
    import torch

    return torch.tensor([list(ids)], dtype=torch.long, device=device)


def cache_argument(model: Any) -> str:
    """``cache`` in newer transformers, ``past_key_values`` before."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def cache_of(output: Any) -> Any:
    """The cache a forward pass returned (``NotImplementedError`` when the model keeps none)."""
    cache = getattr(output, "cache", None) or getattr(output, "past_key_values", None)
    if cache is None:
        raise NotImplementedError("model returned no cache")
    return cache


def croppable(cache: Any) -> bool:
    """A cache that can be cut back to the prefix (else each response runs on a copy)."""
    return hasattr(cache, "crop") and hasattr(cache, "get_seq_length")


def crop_cache(cache: Any, length: int) -> None:
    """Drop cached positions past ``length`` (``crop`` takes a length, or, in newer transformers,
    a negative count of tokens to remove)."""
    extra = cache.get_seq_length() - length
    if extra <= 0:
        return
    try:
        cache.crop(-extra)
    except ValueError:
        cache.crop(length)
    if cache.get_seq_length() != length:
        raise ValueError(f"cache holds {cache.get_seq_length()} positions after cropping to {length}")


def run_on_cache(model: Any, suffix: Sequence[int], prefix_length: int, cache: Any, argument: str) -> Any:
    """The model's output for ``suffix`` after the cached prefix; the cache is left holding the prefix
    only (cropped back, or never touched: a cache that cannot be cropped is copied first)."""
    import copy

    import torch

    device = model_device(model)
    step_cache = cache if croppable(cache) else copy.deepcopy(cache)
    mask = torch.ones((1, prefix_length + len(suffix)), dtype=torch.long, device=device)
    output = model(
        input_ids=as_batch(suffix, device), attention_mask=mask, use_cache=True, **{argument: step_cache}
    )
    if step_cache is cache:
        crop_cache(cache, prefix_length)
    return output
