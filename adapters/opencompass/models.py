"""OpenCompass model wrappers for Long-RewardBench: a generative judge on HF, and scalar reward models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opencompass.models import HuggingFacewithChatTemplate
from opencompass.models.base import BaseModel

from .inferencer import JUDGE_META_TEMPLATE


class HuggingFaceChatJudge(HuggingFacewithChatTemplate):
    """``HuggingFacewithChatTemplate`` with the judge meta template (a real system message) as default.

    ``chat_template_kwargs`` (default: none beyond the protocol's ``enable_thinking=False``, which the
    Long-RewardBench inferencer applies to every chat model unless these say otherwise) are the chat
    template arguments every render uses.
    """

    def __init__(
        self,
        path: str,
        chat_template_kwargs: dict[str, Any] | None = None,
        meta_template: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(path=path, meta_template=meta_template or JUDGE_META_TEMPLATE, **kwargs)
        self.chat_template_kwargs = dict(chat_template_kwargs or {})


_RM_ONLY = "LongRMRewardModel scores responses: use the Long-RewardBench RM dataset configs"


class LongRMRewardModel(BaseModel):
    """A scalar reward model (``AutoModelForSequenceClassification``) for the Long-RewardBench RM datasets.

    Each presented response is scored alone on ``prompt_template + [assistant: response]`` with the
    tokenizer's chat template (spec §5; sequences of 131,072+ tokens get the §6 parity cut); the reward
    is the first logit. The responses of a row share their context, which is encoded once
    (``prefix_sharing=True``, the core's :class:`~longrm_tasks.rm.scorer.RewardScorer`); no padding, so
    batch size cannot change a reward. Use with :class:`~.inferencer.LongRMRewardInferencer` (the RM
    dataset configs do).
    """

    is_api = False

    def __init__(
        self,
        path: str,
        tokenizer_path: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        max_seq_len: int | None = None,
        prefix_sharing: bool = True,
        device: str | None = None,
        trust_remote_code: bool = False,
        meta_template: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification

        from longrm_tasks.options import parse_bool
        from longrm_tasks.rm.placement import place_model
        from longrm_tasks.rm.scorer import RewardScorer
        from longrm_tasks.rm.sharding import ProcessGroup
        from longrm_tasks.truncation.tokenizers import load_tokenizer

        trust_remote_code = parse_bool(trust_remote_code, "trust_remote_code")
        self.tokenizer = load_tokenizer(
            tokenizer_path or path, trust_remote_code=trust_remote_code, purpose="LongRMRewardModel"
        )
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(f"the tokenizer of {path!r} has no chat template (spec §5 needs one)")
        model_kwargs = dict(model_kwargs or {})
        dtype = model_kwargs.pop("torch_dtype", model_kwargs.pop("dtype", "float32"))
        if isinstance(dtype, str) and dtype != "auto":
            dtype = getattr(torch, dtype.removeprefix("torch."))
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # model_kwargs=dict(device_map="auto", max_memory={...}) splits a model too large for one GPU.
        placement = place_model(
            device, ProcessGroup(), model_kwargs.pop("device_map", None), model_kwargs.pop("max_memory", None)
        )
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            torch_dtype=dtype,
            trust_remote_code=trust_remote_code,
            **model_kwargs,
            **placement.load_kwargs,
        )
        self.model = placement.apply(model)
        context = getattr(model.config, "max_position_embeddings", None)
        super().__init__(
            path=path, max_seq_len=max_seq_len or context or 131_072, meta_template=meta_template
        )
        self.scorer = RewardScorer(self.model, prefix_sharing=prefix_sharing)
        for key, value in kwargs.items():
            if value is not None:
                self.logger_warning(f"LongRMRewardModel ignores {key}={value!r}")

    @staticmethod
    def logger_warning(text: str) -> None:
        from opencompass.utils import get_logger

        get_logger().warning(text)

    def rewards(
        self, prompt_template: Sequence[dict[str, str]], slots: Sequence[str]
    ) -> tuple[list[float], list[bool], list[int]]:
        """Rewards of the presented ``slots``, whether each sequence was parity-cut, and its length."""
        from longrm_tasks.rm.sequences import response_sequences

        messages = [{"role": m["role"], "content": m["content"]} for m in prompt_template]
        sequences, cut = response_sequences(self.tokenizer, messages, list(slots))
        lengths = [len(sequence) for sequence in sequences]
        if max(lengths) > self.max_seq_len:
            self.logger_warning(
                f"Long-RewardBench RM: {max(lengths)} tokens in a sequence, max_seq_len={self.max_seq_len}"
            )
        return self.scorer.score(sequences), list(cut), lengths

    def generate(self, inputs: list[Any], max_out_len: int, **kwargs: Any) -> list[str]:
        raise NotImplementedError(
            "LongRMRewardModel scores responses: use the Long-RewardBench RM dataset configs"
        )

    def get_ppl(self, inputs: list[Any], mask_length: list[int] | None = None) -> list[float]:
        raise NotImplementedError(
            "LongRMRewardModel scores responses: use the Long-RewardBench RM dataset configs"
        )

    def get_token_len(self, prompt: str) -> int:
        return len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
