"""``--model longrm-rm``: a sequence-classification reward model as an lm-eval backend.

It serves the ``longrewardbench*_rm`` tasks, whose documents carry the conversation and the
presented responses: each response's reward (first logit, spec §5) is returned as its
"log-likelihood", so lm-eval's multiple-choice machinery ranks the responses. The N responses of
a document are scored together, the shared context encoded once (``prefix_sharing=True``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import LM
from tqdm import tqdm

from longrm_tasks.options import parse_bool
from longrm_tasks.rm.scorer import RewardScorer
from longrm_tasks.rm.sequences import response_sequences
from longrm_tasks.truncation.tokenizers import load_tokenizer

log = logging.getLogger("longrm_tasks")

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
        self.tokenizer = load_tokenizer(
            tokenizer or pretrained, revision=revision, trust_remote_code=remote, purpose="longrm-rm"
        )
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(
                f"longrm-rm: tokenizer of {pretrained!r} has no chat template (spec §5 needs one)"
            )
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        model = AutoModelForSequenceClassification.from_pretrained(
            pretrained, revision=revision, dtype=torch_dtype, trust_remote_code=remote
        )
        self.model = model.to(self.device_name).eval()
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
        # Longest contexts first: peak memory shows up at once, not after hours.
        ordered = sorted(
            groups.values(), key=lambda group: -len(str(requests[group[0]].doc["prompt_template"]))
        )
        for group in tqdm(
            ordered, desc="Scoring responses (longrm-rm)", disable=disable_tqdm or self.rank != 0
        ):
            doc = requests[group[0]].doc
            sequences, cut = response_sequences(self.tokenizer, doc["prompt_template"], doc["slots"])
            self.parity_cut_sequences += sum(cut)
            rewards = self.scorer.score(sequences)
            for position in group:
                results[position] = (rewards[requests[position].idx], False)
        if self.parity_cut_sequences:
            log.info("longrm-rm: %d sequences were parity-cut (spec §6)", self.parity_cut_sequences)
        return results

    def loglikelihood_rolling(self, requests: list[Instance], disable_tqdm: bool = False) -> list[float]:
        raise NotImplementedError("longrm-rm is a scalar reward model: use the longrewardbench *_rm tasks")

    def generate_until(self, requests: list[Instance], disable_tqdm: bool = False) -> list[str]:
        raise NotImplementedError("longrm-rm is a scalar reward model: use the longrewardbench *_rm tasks")
