"""Implicit reward of a causal LM: each response's log-likelihood given the row's context, the context
run once.

Scored one request at a time (lm-eval's ``hf`` backend), every response re-runs the whole context and
the vocabulary's logits are computed at every position, context included: N context passes per row,
and at long contexts logits larger than the model. Here the context runs once, keeping only its last
position's logits (they predict each response's first token), and the responses run together on its
cached keys and values with a block mask (:mod:`.response_block`), logits kept for their own tokens
only. The sums equal those of each (context, response) pair scored alone to float rounding: a
one-time check on a tiny input holds each model to it, else the responses run one at a time on the
cache, and a model that keeps no cache is scored pair by pair.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .kv_cache import as_batch, cache_argument, cache_of, crop_cache, croppable, model_device, run_on_cache
from .response_block import agree, honours_block_mask, response_groups, run_block

#: Logit entries (tokens x vocabulary) one block pass may keep: 2^28 float32 values are 1 GiB.
MAX_LOGIT_ENTRIES = 1 << 28
#: The block check's input: a context of this many tokens, two continuations of half as many.
CHECK_TOKENS = 32
#: Float32 block and pairwise sums agree to ~1e-7 here; a model that ignores the positions or the
#: mask it is given is off by 3e-5 or more even when random (measured on the tests' tiny models).
CHECK_RELATIVE = 2e-6

#: (summed log-probability of the continuation, whether greedy decoding would have produced it)
LogLikelihood = tuple[float, bool]


@dataclass
class ImplicitStats:
    """Tokens actually run through the model, for benchmarks and logs."""

    tokens_processed: int = 0
    context_tokens_shared: int = 0
    block_passes: int = 0
    pairwise_fallbacks: int = 0


def _keep_argument(model: Any) -> str | None:
    """The forward's "logits of the last k positions only" argument, if it has one."""
    parameters = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in parameters:
            return name
    return None


class ImplicitRewardScorer:
    """Log-likelihoods of continuations that share a context, for a ``*ForCausalLM`` model."""

    def __init__(self, model: Any, *, softmax_dtype: Any = None, response_block: bool = True) -> None:
        self.model = model
        self.softmax_dtype = softmax_dtype
        self.response_block = response_block
        self._block_checked: bool | None = None
        self._keep = _keep_argument(model)
        self.stats = ImplicitStats()

    # -- the definition: each pair alone ---------------------------------------------------------

    def score_pairwise(
        self, context: Sequence[int], continuations: Sequence[Sequence[int]]
    ) -> list[LogLikelihood]:
        """Each ``context + continuation`` alone through the model (what lm-eval's ``hf`` computes)."""
        import torch

        results = []
        with torch.inference_mode():
            for continuation in continuations:
                ids = [*context, *continuation][:-1]
                logits = self.model(input_ids=as_batch(ids, model_device(self.model))).logits[0]
                results.append(self._loglikelihood(logits[-len(continuation) :], continuation))
                self.stats.tokens_processed += len(ids)
        return results

    def _loglikelihood(self, logits: Any, continuation: Sequence[int]) -> LogLikelihood:
        """Sum of the continuation's log-probabilities under ``logits`` (one row per token), and greedy."""
        import torch

        logprobs = torch.log_softmax(logits, dim=-1, dtype=self.softmax_dtype)
        targets = torch.tensor(list(continuation), dtype=torch.long, device=logprobs.device)
        picked = logprobs.gather(1, targets[:, None])[:, 0]
        return float(picked.sum()), bool((logprobs.argmax(dim=-1) == targets).all())

    # -- the shared path -------------------------------------------------------------------------

    def score(self, context: Sequence[int], continuations: Sequence[Sequence[int]]) -> list[LogLikelihood]:
        """Log-likelihood of each continuation given ``context``, the context run once."""
        if not context or not continuations or any(not continuation for continuation in continuations):
            raise ValueError("implicit reward: empty context or continuation")
        try:
            return self._score_shared(context, continuations)
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            # The architecture takes no cache (or cannot crop one): pair by pair always works.
            self.stats.pairwise_fallbacks += 1
            return self.score_pairwise(context, continuations)

    def _context_pass(self, context: Sequence[int]) -> tuple[Any, Any]:
        """The cache of ``context`` and the logits at its last position (one row)."""
        keep = {self._keep: 1} if self._keep else {}
        output = self.model(input_ids=as_batch(context, model_device(self.model)), use_cache=True, **keep)
        return cache_of(output), output.logits[0, -1:]

    def _block_ready(self, context: Sequence[int]) -> bool:
        """Whether responses may share one forward (checked once per scorer, on a tiny input)."""
        size = CHECK_TOKENS + CHECK_TOKENS // 2
        if self._block_checked is None and len(context) >= size:
            self._block_checked = honours_block_mask(self.model) and self._block_agrees(context[:size])
        return bool(self._block_checked)

    def _block_agrees(self, tokens: Sequence[int]) -> bool:
        """A block pass over a short context gives each pair's own log-likelihoods (the check's passes
        are not counted in the run's stats)."""
        half = CHECK_TOKENS // 2
        context = tokens[:CHECK_TOKENS]
        continuations = [tokens[CHECK_TOKENS:], tokens[half // 2 : half // 2 + half]]
        stats = dataclasses.replace(self.stats)
        try:
            cache, first = self._context_pass(context)
            if not croppable(cache):
                return False
            shared = self._blocks(context, continuations, cache, first)
            alone = self.score_pairwise(context, continuations)
        except (TypeError, ValueError, NotImplementedError, AttributeError, RuntimeError):
            return False
        finally:
            self.stats = stats
        dtype = next(self.model.parameters()).dtype
        same_values = agree(
            [value for value, _ in shared],
            [value for value, _ in alone],
            dtype,
            float32_relative=CHECK_RELATIVE,
        )
        return same_values and [greedy for _, greedy in shared] == [greedy for _, greedy in alone]

    def _score_shared(
        self, context: Sequence[int], continuations: Sequence[Sequence[int]]
    ) -> list[LogLikelihood]:
        import torch

        with torch.inference_mode():
            block = self.response_block and self._block_ready(context)
            cache, first = self._context_pass(context)
            self.stats.tokens_processed += len(context) + sum(len(c) - 1 for c in continuations)
            self.stats.context_tokens_shared += len(context) * (len(continuations) - 1)
            if block and croppable(cache):
                return self._blocks(context, continuations, cache, first)
            return self._one_at_a_time(context, continuations, cache, first)

    def _blocks(
        self, context: Sequence[int], continuations: Sequence[Sequence[int]], cache: Any, first: Any
    ) -> list[LogLikelihood]:
        """The continuations (all but their last token) in block passes on top of the context's cache."""
        import torch

        suffixes = [continuation[:-1] for continuation in continuations]
        argument = cache_argument(self.model)
        keep = {self._keep: 0} if self._keep else {}
        width = int(first.shape[-1])
        logits: dict[int, Any] = {}
        pending = [index for index, suffix in enumerate(suffixes) if suffix]
        lengths = [len(suffixes[index]) for index in pending]
        for group in response_groups(lengths, len(context), max_tokens=max(1, MAX_LOGIT_ENTRIES // width)):
            members = [pending[position] for position in group]
            output, last_indices = run_block(
                self.model, [suffixes[index] for index in members], len(context), cache, argument, **keep
            )
            self.stats.block_passes += 1
            start = 0
            for index, last in zip(members, last_indices, strict=True):
                logits[index] = output.logits[0, start : last + 1]
                start = last + 1
            crop_cache(cache, len(context))
        return [
            self._loglikelihood(torch.cat([first, logits[index]]) if index in logits else first, continuation)
            for index, continuation in enumerate(continuations)
        ]

    def _one_at_a_time(
        self, context: Sequence[int], continuations: Sequence[Sequence[int]], cache: Any, first: Any
    ) -> list[LogLikelihood]:
        """Each continuation's own tokens on top of the context's cache, cropping back after each."""
        import torch

        argument = cache_argument(self.model)
        results = []
        for continuation in continuations:
            logits = first
            if len(continuation) > 1:
                output = run_on_cache(self.model, continuation[:-1], len(context), cache, argument)
                logits = torch.cat([first, output.logits[0]])
            results.append(self._loglikelihood(logits, continuation))
        return results
