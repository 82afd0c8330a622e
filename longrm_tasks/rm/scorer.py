"""Rewards of a sequence classifier, with the shared context encoded once.

All N responses of a sample share the chat-templated context. The prefix-shared path runs the
model over that prefix once, keeps its key/value cache, and runs the responses' own tokens on
top of it (all in one forward with a block mask where the model allows it, see
``response_block``; else one at a time, cropping the cache back after each), so a 128k-token
context costs one pass instead of N. The plain path scores each full sequence alone, exactly as
the official evaluator does. Neither path pads: every forward pass holds one sample, so results do
not depend on batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .kv_cache import as_batch, cache_argument, cache_of, crop_cache, croppable, model_device, run_on_cache
from .response_block import agree, response_groups, score_block, supports_block
from .sequences import shared_prefix_length


@dataclass
class ScoreStats:
    """Tokens actually run through the model, for reports and benchmarks."""

    tokens_processed: int = 0
    prefix_tokens_shared: int = 0
    plain_fallbacks: int = 0
    block_passes: int = 0


class RewardScorer:
    """Scores token sequences with a ``*ForSequenceClassification`` model (first logit = reward)."""

    def __init__(self, model: Any, *, prefix_sharing: bool = True, response_block: bool = True) -> None:
        self.model = model
        self.prefix_sharing = prefix_sharing
        self.response_block = response_block
        self._block_checked: bool | None = None
        self.stats = ScoreStats()
        config = getattr(model, "config", None)
        self.pad_token_id = getattr(config, "pad_token_id", None)

    @property
    def device(self) -> Any:
        return model_device(self.model)

    def _tensor(self, ids: Sequence[int]) -> Any:
        return as_batch(ids, self.device)

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
        return cache_argument(self.model)

    def _block_ready(self, sequences: Sequence[Sequence[int]], cache_argument: str) -> bool:
        """Whether responses may share one forward (checked once per scorer, on a tiny input)."""
        if self._block_checked is None:
            self._block_checked = supports_block(self.model) and self._block_agrees(sequences, cache_argument)
        return self._block_checked

    def _block_agrees(self, sequences: Sequence[Sequence[int]], cache_argument: str) -> bool:
        """One block pass and one-at-a-time passes over a 16-token prefix give the same rewards."""
        tokens = [token for token in sequences[0] if token != self.pad_token_id][:24]
        if len(tokens) < 24:
            return False
        prefix, suffixes = tokens[:16], [tokens[16:20], tokens[8:11]]
        try:
            cache = self._prefix_cache(prefix)
            one_at_a_time = self._one_at_a_time(suffixes, len(prefix), cache, cache_argument)
            block = score_block(self.model, suffixes, len(prefix), cache, cache_argument)
        except (TypeError, ValueError, NotImplementedError, AttributeError, RuntimeError):
            return False
        return agree(block, one_at_a_time, next(self.model.parameters()).dtype)

    def _prefix_cache(self, prefix: Sequence[int]) -> Any:
        return cache_of(self.model(input_ids=self._tensor(prefix), use_cache=True))

    def _one_at_a_time(
        self, suffixes: Sequence[Sequence[int]], prefix_length: int, cache: Any, cache_argument: str
    ) -> list[float]:
        """Each response's own tokens on top of the cached prefix, cropping back after each."""
        return [
            float(run_on_cache(self.model, suffix, prefix_length, cache, cache_argument).logits[0, 0].float())
            for suffix in suffixes
        ]

    def _score_shared(self, sequences: Sequence[Sequence[int]], prefix_length: int) -> list[float]:
        import torch

        cache_argument = self._cache_argument()
        suffixes = [ids[prefix_length:] for ids in sequences]
        with torch.inference_mode():
            block = self.response_block and self._block_ready(sequences, cache_argument)
            cache = self._prefix_cache(sequences[0][:prefix_length])
            block = block and croppable(cache)
            self.stats.tokens_processed += prefix_length + sum(len(suffix) for suffix in suffixes)
            self.stats.prefix_tokens_shared += prefix_length * (len(sequences) - 1)
            lengths = [len(suffix) for suffix in suffixes]
            groups = response_groups(lengths, prefix_length) if block else [[i] for i in range(len(suffixes))]
            rewards: list[float] = []
            for group in groups:
                members = [suffixes[index] for index in group]
                if len(group) == 1:
                    rewards += self._one_at_a_time(members, prefix_length, cache, cache_argument)
                else:
                    rewards += score_block(self.model, members, prefix_length, cache, cache_argument)
                    self.stats.block_passes += 1
                    crop_cache(cache, prefix_length)
        return rewards
