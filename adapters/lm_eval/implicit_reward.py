"""``--model longrm-hf``: lm-eval's ``hf`` backend, each shared context run once for all its continuations.

Everything but the log-likelihood arithmetic is lm-eval's own ``HFLM``: loading, every ``model_args``
key, tokenization (``_encode_pair``), generation and left-truncation of over-long requests. Requests
whose token contexts are identical (the N responses of a ``*_rm`` row scored as an implicit reward) are
scored together by the core's :class:`~longrm_tasks.rm.implicit.ImplicitRewardScorer`: one pass over
the context instead of N, and vocabulary logits for the responses' tokens only. The numbers are
``--model hf``'s to float rounding (tests compare both on the bundled sample). ``prefix_sharing=false``
gives ``hf``'s own path.
"""

from __future__ import annotations

from typing import Any

import torch
from lm_eval.models.huggingface import HFLM
from tqdm import tqdm

from longrm_tasks.options import parse_bool
from longrm_tasks.rm.implicit import ImplicitRewardScorer, LogLikelihood

#: lm-eval's request as ``_loglikelihood_tokens`` receives it: ((context, continuation), ids, ids).
TokenRequest = tuple[tuple[str, str] | None, list[int], list[int]]


class PrefixSharedHFLM(HFLM):
    """``hf`` with continuations of one context scored in one pass over it (``prefix_sharing``)."""

    def __init__(
        self,
        *args: Any,
        prefix_sharing: bool | str = True,
        trust_remote_code: bool | str = False,
        **kwargs: Any,
    ) -> None:
        # Both parsed strictly before anything loads: remote code only on a true value ("no" is not a
        # licence to run code).
        sharing = parse_bool(prefix_sharing, "prefix_sharing")
        super().__init__(
            *args, trust_remote_code=parse_bool(trust_remote_code, "trust_remote_code"), **kwargs
        )
        self.prefix_sharing = sharing
        self.implicit = ImplicitRewardScorer(self.model, softmax_dtype=self.softmax_dtype)

    def _loglikelihood_tokens(
        self, requests: list[TokenRequest], disable_tqdm: bool = False, override_bs: int | None = None
    ) -> list[LogLikelihood]:
        if not self.prefix_sharing or self.backend != "causal":
            return super()._loglikelihood_tokens(requests, disable_tqdm, override_bs)
        results: list[LogLikelihood | None] = [None] * len(requests)
        groups: dict[tuple[int, ...], list[int]] = {}
        too_long = []
        for position, (_, context, continuation) in enumerate(requests):
            if len(context) + len(continuation) > self.max_length + 1:
                too_long.append(position)  # hf's own left-truncation applies
            else:
                groups.setdefault(tuple(context), []).append(position)
        if too_long:
            long_requests = [requests[p] for p in too_long]
            answers = super()._loglikelihood_tokens(long_requests, disable_tqdm, override_bs)
            for position, answer in zip(too_long, answers, strict=True):
                results[position] = answer
        bar = tqdm(
            total=len(requests) - len(too_long),
            disable=disable_tqdm or self.rank != 0,
            desc="Running loglikelihood requests (context shared)",
        )
        # Longest first, as hf does: a memory failure shows at once, the estimate errs long.
        for context, positions in sorted(
            groups.items(), key=lambda item: -len(item[0]) - max(len(requests[p][2]) for p in item[1])
        ):
            with torch.autocast(
                device_type=self.device.type,
                dtype=self.mixed_precision_dtype,
                enabled=self.mixed_precision_dtype is not None,
            ):
                answers = self.implicit.score(list(context), [requests[p][2] for p in positions])
            for position, answer in zip(positions, answers, strict=True):
                results[position] = answer
                if requests[position][0] is not None:
                    self.cache_hook.add_partial("loglikelihood", requests[position][0], answer)
            bar.update(len(positions))
        bar.close()
        missing = [position for position, answer in enumerate(results) if answer is None]
        if missing:
            raise RuntimeError(f"longrm-hf: {len(missing)} requests were not scored")
        return results  # type: ignore[return-value]
