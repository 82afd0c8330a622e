"""``--model longrm-rm``: a sequence-classification reward model as an lm-eval backend.

It serves the ``longrewardbench*_rm`` tasks, whose documents carry the conversation and the
presented responses: each response's reward (first logit, spec §5) is returned as its
"log-likelihood", so lm-eval's multiple-choice machinery ranks the responses. The N responses of
a document are scored together, the shared context encoded once (``prefix_sharing=True``).

Under ``torchrun``/``accelerate launch`` the processes split the documents between them (the core's
:mod:`~longrm_tasks.rm.sharding`: whole documents, longest spread evenly) and exchange the rewards, so
lm-eval sees one process's view everywhere (rank 0 of 1; only the first process writes results).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import LM
from tqdm import tqdm

from longrm_tasks.options import parse_bool
from longrm_tasks.rm.placement import place_model
from longrm_tasks.rm.scorer import RewardScorer
from longrm_tasks.rm.sequences import response_sequences
from longrm_tasks.rm.sharding import process_group, sample_cost, score_sharded
from longrm_tasks.truncation.tokenizers import load_tokenizer

log = logging.getLogger("longrm_tasks")
#: lm-eval shows INFO records of its own logger tree only (the run's progress belongs there).
progress_log = logging.getLogger("lm_eval.longrm_rm")

_DTYPES = ("auto", "float32", "float16", "bfloat16")


class RewardModelLM(LM):
    """Scalar reward model (``AutoModelForSequenceClassification``) for the ``*_rm`` tasks."""

    def __init__(
        self,
        pretrained: str,
        tokenizer: str | None = None,
        revision: str | None = None,
        dtype: str = "float32",
        device: str | None = None,
        batch_size: int | str = 1,
        prefix_sharing: bool | str = True,
        trust_remote_code: bool | str = False,
        device_map: str | None = None,
        max_memory: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        import torch
        from transformers import AutoModelForSequenceClassification

        if dtype not in _DTYPES:
            raise ValueError(f"longrm-rm: dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
        unused = sorted(set(kwargs) - {"max_batch_size"})
        if unused:
            log.warning("longrm-rm ignores model_args %s", ", ".join(unused))
        remote = parse_bool(trust_remote_code, "trust_remote_code")
        self.device_name = device or "cuda"
        if self.device_name.startswith("cuda") and not torch.cuda.is_available():
            if device:
                log.warning("longrm-rm: device %s requested but CUDA is unavailable; using cpu", device)
            self.device_name = "cpu"
        self.group = process_group()
        placement = place_model(self.device_name, self.group, device_map, max_memory)
        self.tokenizer = load_tokenizer(
            tokenizer or pretrained, revision=revision, trust_remote_code=remote, purpose="longrm-rm"
        )
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(
                f"longrm-rm: tokenizer of {pretrained!r} has no chat template (spec §5 needs one)"
            )
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        model = AutoModelForSequenceClassification.from_pretrained(
            pretrained,
            revision=revision,
            dtype=torch_dtype,
            trust_remote_code=remote,
            **placement.load_kwargs,
        )
        self.model = placement.apply(model)
        # Scoring never pads (one sequence per forward pass), so the batch size groups documents
        # only and cannot change any reward.
        self.batch_size = int(batch_size) if str(batch_size).isdigit() else 1
        self.scorer = RewardScorer(self.model, prefix_sharing=parse_bool(prefix_sharing, "prefix_sharing"))
        self.parity_cut_sequences = 0

    def loglikelihood(self, requests: list[Instance], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        """Reward of each (document, slot) request, as ``(reward, False)``."""
        groups: dict[str, list[int]] = defaultdict(list)
        for position, request in enumerate(requests):
            doc = request.doc
            if not isinstance(doc, dict) or "prompt_template" not in doc or "slots" not in doc:
                raise ValueError(
                    "longrm-rm scores the longrewardbench *_rm tasks only (documents with prompt_template "
                    f"and slots); task {getattr(request, 'task_name', '?')!r} is not one"
                )
            groups[doc["uid"]].append(position)
        results: list[tuple[float, bool]] = [(0.0, False)] * len(requests)
        docs = [requests[group[0]].doc for group in groups.values()]
        bar = tqdm(desc="Scoring responses (longrm-rm)", disable=disable_tqdm or self.group.rank != 0)

        def score(doc: dict[str, Any]) -> tuple[list[float], int]:
            sequences, cut = response_sequences(self.tokenizer, doc["prompt_template"], doc["slots"])
            rewards = self.scorer.score(sequences)
            bar.update(1)
            return rewards, sum(cut)

        scored = score_sharded(
            docs,
            keys=list(groups),
            costs=[sample_cost(doc["prompt_template"], doc["slots"]) for doc in docs],
            score=score,
            group=self.group,
            on_shard=lambda count: self._start_shard(bar, count, len(docs)),
        )
        bar.close()
        for positions, (rewards, cut) in zip(groups.values(), scored, strict=True):
            self.parity_cut_sequences += cut
            for position in positions:
                results[position] = (rewards[requests[position].idx], False)
        if self.parity_cut_sequences:
            log.info("longrm-rm: %d sequences were parity-cut (spec §6)", self.parity_cut_sequences)
        return results

    def _start_shard(self, bar: Any, count: int, total: int) -> None:
        if self.group.world_size > 1:
            progress_log.info(
                "longrm-rm: process %d of %d scores %d of %d samples",
                self.group.rank,
                self.group.world_size,
                count,
                total,
            )
        bar.reset(total=count)

    def loglikelihood_rolling(self, requests: list[Instance], disable_tqdm: bool = False) -> list[float]:
        raise NotImplementedError("longrm-rm is a scalar reward model: use the longrewardbench *_rm tasks")

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        raise NotImplementedError("longrm-rm is a scalar reward model: use the longrewardbench *_rm tasks")
