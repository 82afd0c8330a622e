"""Rewards of a sequence classifier, with the shared context encoded once.

All N responses of a sample share the chat-templated context. The prefix-shared path runs the
model over that prefix once, keeps its key/value cache, and runs each response's own tokens on
top of it (cropping the cache back after each), so a 128k-token context costs one pass instead of
N. The plain path scores each full sequence alone, exactly as the official evaluator does. Neither
path pads: every forward pass holds one sequence, so results do not depend on batch size.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .sequences import shared_prefix_length


@dataclass
class ScoreStats:
    """Tokens actually run through the model, for reports and benchmarks."""

    tokens_processed: int = 0
    prefix_tokens_shared: int = 0
    plain_fallbacks: int = 0


class RewardScorer:
    """Scores token sequences with a ``*ForSequenceClassification`` model (first logit = reward)."""

    def __init__(self, model: Any, *, prefix_sharing: bool = True) -> None:
        self.model = model
        self.prefix_sharing = prefix_sharing
        self.stats = ScoreStats()
        config = getattr(model, "config", None)
        self.pad_token_id = getattr(config, "pad_token_id", None)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def _tensor(self, ids: Sequence[int]) -> Any:
        import torch

        return torch.tensor([list(ids)], dtype=torch.long, device=self.device)

    def score_plain(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Each sequence alone through the full model (the official path)."""
        import torch

        rewards = []
        with torch.inference_mode():
            for ids in sequences:
                logits = self.model(input_ids=self._tensor(ids)).logits
                rewards.append(float(logits[0, 0].float()))
                self.stats.tokens_processed += len(ids)
        return rewards

    def _reward_token_in_suffix(self, ids: Sequence[int], prefix_length: int) -> bool:
        """The classifier reads the last non-pad token; it must lie in the response's own tokens."""
        if self.pad_token_id is None:
            return True
        return any(token != self.pad_token_id for token in ids[prefix_length:])

    def score(self, sequences: Sequence[Sequence[int]]) -> list[float]:
        """Rewards of ``sequences`` (the N responses of one sample), prefix-shared when possible."""
        prefix_length = shared_prefix_length(sequences) if self.prefix_sharing else 0
        if prefix_length == 0 or len(sequences) < 2:
            return self.score_plain(sequences)
        if not all(self._reward_token_in_suffix(ids, prefix_length) for ids in sequences):
            self.stats.plain_fallbacks += 1
            return self.score_plain(sequences)
        try:
            return self._score_shared(sequences, prefix_length)
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            # The architecture takes no cache (or cannot crop one): the plain path always works.
            self.stats.plain_fallbacks += 1
            return self.score_plain(sequences)

    def _cache_argument(self) -> str:
        """``cache`` in newer transformers, ``past_key_values`` before."""
        import inspect

        parameters = inspect.signature(self.model.forward).parameters
        return "cache" if "cache" in parameters else "past_key_values"

    def _score_shared(self, sequences: Sequence[Sequence[int]], prefix_length: int) -> list[float]:
        import torch

        cache_argument = self._cache_argument()
        rewards = []
        with torch.inference_mode():
            prefix = self._tensor(sequences[0][:prefix_length])
            output = self.model(input_ids=prefix, use_cache=True)
            cache = getattr(output, "past_key_values", None) or getattr(output, "cache", None)
            if cache is None:
                raise NotImplementedError("model returned no cache")
            self.stats.tokens_processed += prefix_length
            self.stats.prefix_tokens_shared += prefix_length * (len(sequences) - 1)
            croppable = hasattr(cache, "crop") and hasattr(cache, "get_seq_length")
            for ids in sequences:
                step_cache = cache if croppable else copy.deepcopy(cache)
                suffix = self._tensor(ids[prefix_length:])
                mask = torch.ones((1, len(ids)), dtype=torch.long, device=self.device)
                output = self.model(
                    input_ids=suffix, attention_mask=mask, use_cache=True, **{cache_argument: step_cache}
                )
                rewards.append(float(output.logits[0, 0].float()))
                self.stats.tokens_processed += len(ids) - prefix_length
                if croppable:
                    crop_cache(cache, prefix_length)
        return rewards


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
