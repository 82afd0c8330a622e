"""Generation inferencer for judge prompts: explicit lengths, parity truncation, a real system message.

OpenCompass backends handle long prompts silently or late (the HF chat wrapper left-truncates to
``max_seq_len`` and loses the judge instructions, vLLM raises mid-run, API models raise above their
``max_seq_len``). :class:`LongRMGenInferencer` settles every prompt before it reaches the model:

1. parity truncation (spec §6) with the model's own tokenizer (``model.tokenizer``, or
   ``tokenizer_path``), exactly as the lm-eval tasks do;
2. a length check against the model's ``max_seq_len``: a prompt that does not fit raises
   :class:`PromptTooLongError` (``over_length='error'``, the default), or, with
   ``over_length='middle'`` (not parity), the middle of its context is cut so that prompt + ``max_out_len``
   fit, keeping the instructions and every response whole;
3. the judge instructions go out as a real system message: the model's own ``meta_template`` is used
   when it maps ``SYSTEM`` to a system role; chat backends whose template would merge it into the user
   turn get the judge meta template instead (``system_message='auto'``); a chat template that rejects
   system messages gets the instructions merged into the user turn (``system + "\\n\\n" + user``, as the
   lm-eval tasks do), logged.

Every prediction records ``truncation``, ``prompt_tokens`` and ``system_message``; the evaluator reads
``truncation``. Stored prompts are elided in the middle (``store_prompt='elided'``): at 128k tokens
per sample, full prompts would make the predictions files hundreds of megabytes.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import os.path as osp
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from opencompass.models.base_api import APITemplateParser
from opencompass.openicl.icl_inferencer.icl_base_inferencer import BaseInferencer, GenInferencerOutputHandler
from opencompass.openicl.icl_inferencer.icl_gen_inferencer import GenInferencer
from opencompass.utils import get_logger
from opencompass.utils.prompt import PromptList

from longrm_tasks.errors import LongRMError, install_excepthook
from longrm_tasks.truncation import CUT, CUT_APPROX, NOT_CUT, UNCHECKED, ParityTruncator

from .datasets import CONTEXT_END_COLUMN, GOLD_COLUMN, SYSTEM_COLUMN, USER_COLUMN

install_excepthook()
logger = get_logger()

#: The meta template that sends OpenCompass ``SYSTEM`` prompts as real system messages.
JUDGE_META_TEMPLATE: dict[str, Any] = {
    "round": [{"role": "HUMAN", "api_role": "HUMAN"}, {"role": "BOT", "api_role": "BOT", "generate": True}],
    "reserved_roles": [{"role": "SYSTEM", "api_role": "SYSTEM"}],
}
#: Status of a prompt whose context was cut in the middle to fit the model (``over_length='middle'``).
CUT_MIDDLE = "cut-middle"
OVER_LENGTH_MODES = ("error", "middle")
SYSTEM_MESSAGE_MODES = ("auto", "model")
#: Characters kept at each end of a stored prompt message when ``store_prompt='elided'``.
STORED_PROMPT_EDGE = 2000

_SYSTEM_SENTINEL = "\ue000LONGRM-SYSTEM-PROMPT\ue000"
_USER_SENTINEL = "\ue000LONGRM-USER-PROMPT\ue000"
_QUESTION_PREFIX = "[User Question]\n"
#: Texts this many bytes below a limit cannot exceed it in tokens (a token has at least one byte).
_BYTES_MARGIN = 256
#: Tokens kept free when cutting to fit (re-tokenizing a cut text can differ by a few tokens).
_FIT_SLACK = 16


class PromptTooLongError(LongRMError, ValueError):
    """A judge prompt does not fit the model; says which sample and what to change."""


@dataclass
class Prepared:
    """One sample, ready for the model."""

    prompt: Any
    truncation: str
    prompt_tokens: int | None
    system_message: str


class LongRMGenInferencer(GenInferencer):
    """``GenInferencer`` for Long-RewardBench judge prompts (see the module docstring).

    Args beyond ``GenInferencer``'s:
        over_length: ``'error'`` (default) or ``'middle'`` (cut the context's middle to fit; not parity).
        tokenizer_path: tokenizer for truncation and length checks when the model has none of its own
            (e.g. an API model counting with tiktoken); defaults to the model's tokenizer.
        system_message: ``'auto'`` (default, see above) or ``'model'`` (always the model's meta_template).
        store_prompt: ``'elided'`` (default) or ``'full'``.
    """

    def __init__(
        self,
        model: Any,
        max_out_len: int = 2048,
        over_length: str = "error",
        tokenizer_path: str | None = None,
        system_message: str = "auto",
        store_prompt: str = "elided",
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, max_out_len=max_out_len, **kwargs)
        if over_length not in OVER_LENGTH_MODES:
            raise ValueError(f"over_length must be one of {OVER_LENGTH_MODES}, got {over_length!r}")
        if system_message not in SYSTEM_MESSAGE_MODES:
            raise ValueError(f"system_message must be one of {SYSTEM_MESSAGE_MODES}, got {system_message!r}")
        if store_prompt not in ("elided", "full"):
            raise ValueError(f"store_prompt must be 'elided' or 'full', got {store_prompt!r}")
        self.over_length = over_length
        self.system_message = system_message
        self.store_prompt = store_prompt
        self.tokenizer = _load_tokenizer(model, tokenizer_path)
        self.truncator = ParityTruncator(self.tokenizer) if self.tokenizer is not None else None
        self.limit = getattr(model, "max_seq_len", None)
        self.template_takes_system = _template_takes_system(self.truncator)
        self._judge_parser = APITemplateParser(JUDGE_META_TEMPLATE)
        self._notes: dict[str, int] = {}

    # -- the run ---------------------------------------------------------------------------------
    def inference(
        self,
        retriever: Any,
        ice_template: Any = None,
        prompt_template: Any = None,
        output_json_filepath: str | None = None,
        output_json_filename: str | None = None,
    ) -> list[str]:
        """Generate one judgement per test row (resumable, like ``GenInferencer``)."""
        if prompt_template is None:
            raise ValueError("LongRMGenInferencer needs the dataset's prompt_template")
        out_dir = output_json_filepath or self.output_json_filepath
        out_name = output_json_filename or self.output_json_filename
        handler = GenInferencerOutputHandler()
        tmp_name = Path("tmp_" + out_name).with_suffix(".jsonl").name
        start = len(handler.restore_from_jsonl(out_dir, tmp_name))
        rows = retriever.test_ds
        if self.truncator is None:
            self._note("parity truncation and length checks not applied: no tokenizer (set tokenizer_path)")
        extra = self._generate_kwargs()
        batch_size = max(int(self.batch_size or 1), 1)
        for first in range(start, len(rows), batch_size):
            batch = [
                self.prepare(rows[index], prompt_template)
                for index in range(first, min(first + batch_size, len(rows)))
            ]
            with torch.no_grad():
                outputs = self.model.generate(
                    [item.prompt for item in batch], max_out_len=self.max_out_len, **extra
                )
            if len(outputs) != len(batch):
                raise RuntimeError(f"the model returned {len(outputs)} outputs for {len(batch)} prompts")
            for offset, (item, output) in enumerate(zip(batch, outputs, strict=True)):
                index = first + offset
                row = rows[index]
                handler.save_results(self._stored(item.prompt), output, index, gold=row[GOLD_COLUMN])
                handler.results_dict[str(index)].update(
                    uid=row["uid"],
                    truncation=item.truncation,
                    prompt_tokens=item.prompt_tokens,
                    system_message=item.system_message,
                )
            if self.is_main_process:
                handler.write_to_jsonl(out_dir, tmp_name)
        for note, count in self._notes.items():
            logger.warning(f"Long-RewardBench: {note} ({count} samples)")
        if self.is_main_process:
            os.makedirs(out_dir, exist_ok=True)
            handler.write_to_json(out_dir, out_name)
            if osp.exists(osp.join(out_dir, tmp_name)):
                os.remove(osp.join(out_dir, tmp_name))
        return [result["prediction"] for result in handler.results_dict.values()]

    def _generate_kwargs(self) -> dict[str, Any]:
        parameters = inspect.signature(self.model.generate).parameters
        extra: dict[str, Any] = {}
        if "stopping_criteria" in parameters:
            extra["stopping_criteria"] = self.stopping_criteria
        if "min_out_len" in parameters:
            extra["min_out_len"] = self.min_out_len
        return extra

    def _note(self, text: str) -> None:
        self._notes[text] = self._notes.get(text, 0) + 1

    # -- one sample ------------------------------------------------------------------------------
    def prepare(self, row: dict[str, Any], prompt_template: Any) -> Prepared:
        """Truncate/check one row's messages and build the model input."""
        system, user, truncation, tokens = self.settle_length(row)
        merged = not self.template_takes_system
        if merged:
            self._note(
                "the chat template rejects a system message: judge instructions merged into the user turn"
            )
        filled = _fill(
            prompt_template.generate_item({SYSTEM_COLUMN: _SYSTEM_SENTINEL, USER_COLUMN: _USER_SENTINEL}),
            system,
            user,
            merged,
        )
        prompt = self.model.parse_template(filled, mode="gen")
        if _has_system(prompt) and not merged:
            return Prepared(prompt, truncation, tokens, "system")
        parser = getattr(self.model, "template_parser", None)
        if self.system_message == "auto" and isinstance(parser, APITemplateParser):
            # Chat backends: the judge meta template gives exactly [system, user] (or [user] merged).
            prompt = self._judge_parser.parse_template(filled, mode="gen")
            return Prepared(prompt, truncation, tokens, "merged" if merged else "system")
        if not merged:
            self._note(
                "the model's meta_template sends no system message: judge instructions are in the user turn"
            )
        return Prepared(prompt, truncation, tokens, "merged")

    def settle_length(self, row: dict[str, Any]) -> tuple[str, str, str, int | None]:
        """Apply parity truncation and the length check; return ``(system, user, status, tokens)``."""
        system, user = row[SYSTEM_COLUMN], row[USER_COLUMN]
        if self.truncator is None:
            return system, user, UNCHECKED, None
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            result = self.truncator.truncate(messages)
        except Exception as error:  # a template that rejects the system role, a broken tokenizer
            self._note(f"parity truncation not applied ({type(error).__name__}: {str(error)[:120]})")
            return system, user, UNCHECKED, None
        system, user = result.messages[0]["content"], result.messages[1]["content"]
        status, tokens = result.status, result.prompt_tokens
        if not self.limit:
            return system, user, status, tokens
        budget = self.limit - self.max_out_len if self.over_length == "middle" else self.limit
        if status in (CUT, CUT_APPROX):  # the truncator reports the length before its cut
            tokens = len(self._tokens(self._render(system, user)))
        elif tokens is None:  # counted only when it may matter (for the cut or the output room)
            tokens = self._count([system, user], min(budget, self.limit - self.max_out_len))
        if tokens is not None and tokens > budget:
            if self.over_length == "error":
                raise PromptTooLongError(self._too_long(row, tokens))
            system, user, tokens = self._cut_middle(row, budget)
            return system, user, CUT_MIDDLE, tokens
        if tokens is not None and tokens + self.max_out_len > self.limit:
            self._note(
                f"prompt + max_out_len={self.max_out_len} > max_seq_len={self.limit}: output room limited"
            )
        return system, user, status, tokens

    def _render(self, system: str, user: str) -> str:
        assert self.truncator is not None
        return self.truncator.render(
            [{"role": "system", "content": system}, {"role": "user", "content": user}]
        )

    def _tokens(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _count(self, texts: list[str], budget: int) -> int | None:
        """Prompt tokens, or ``None`` when the prompt is known to fit ``budget`` without tokenizing."""
        text = self._render(*texts)
        if len(text.encode("utf-8")) + _BYTES_MARGIN <= budget:
            return None
        return len(self._tokens(text))

    def _cut_middle(self, row: dict[str, Any], budget: int) -> tuple[str, str, int]:
        """Cut the middle of the context (never the instructions or a response) to fit ``budget``."""
        system, user = row[SYSTEM_COLUMN], row[USER_COLUMN]
        start, end = len(_QUESTION_PREFIX), row[CONTEXT_END_COLUMN]
        context_ids = self._tokens(user[start:end])
        total = len(self._tokens(self._render(system, user)))
        keep = len(context_ids) - (total - budget) - _FIT_SLACK
        for _ in range(4):
            if keep <= 0:
                raise PromptTooLongError(self._too_long(row, total, middle=True))
            head = (keep + 1) // 2
            tail = keep - head
            context = self.tokenizer.decode(context_ids[:head]) + (
                self.tokenizer.decode(context_ids[-tail:]) if tail else ""
            )
            cut_user = user[:start] + context + user[end:]
            tokens = len(self._tokens(self._render(system, cut_user)))
            if tokens <= budget:
                return system, cut_user, tokens
            keep -= tokens - budget + _FIT_SLACK
        raise PromptTooLongError(self._too_long(row, total, middle=True))

    def _too_long(self, row: dict[str, Any], tokens: int, middle: bool = False) -> str:
        where = f"Long-RewardBench sample {row['uid']} (id {row['row_id']}, {row['length_bucket']})"
        if middle:
            return (
                f"{where}: even with its context cut, the prompt does not fit max_seq_len={self.limit} minus "
                f"max_out_len={self.max_out_len} (the responses alone are too long; {tokens} tokens in all)"
            )
        return (
            f"{where}: the judge prompt has {tokens} tokens after parity truncation, more than the model's "
            f"max_seq_len={self.limit}; the backend would cut it silently (losing the judge instructions) or "
            f"fail. Set max_seq_len in the model config to the model's real context length (parity needs "
            f"up to 131,067 prompt tokens + max_out_len), or set over_length='middle' on the dataset's "
            f"inferencer to cut the middle of long contexts to fit (not parity with the paper)."
        )

    def _stored(self, prompt: Any) -> Any:
        """The prompt as stored in the predictions file."""
        if self.store_prompt == "full":
            return prompt
        if isinstance(prompt, str):
            return _elide(prompt)
        return [
            {**item, "prompt": _elide(item["prompt"])}
            if isinstance(item, dict) and "prompt" in item
            else item
            for item in prompt
        ]


def _load_tokenizer(model: Any, tokenizer_path: str | None) -> Any:
    if tokenizer_path:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(tokenizer_path, trust_remote_code=True)
    tokenizer = getattr(model, "tokenizer", None)
    if callable(tokenizer) and callable(getattr(tokenizer, "apply_chat_template", None)):
        return tokenizer
    return None


def _template_takes_system(truncator: ParityTruncator | None) -> bool:
    """Whether the tokenizer's chat template accepts a system message (assumed without a template)."""
    if truncator is None or not truncator.has_chat_template:
        return True
    try:
        truncator.render([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    except Exception:
        return False
    return True


def _fill(template: Any, system: str, user: str, merged: bool) -> Any:
    """The template with the real texts in place of the sentinels (no ``{column}`` substitution)."""

    def put(text: str) -> str:
        return text.replace(_SYSTEM_SENTINEL, system).replace(_USER_SENTINEL, user)

    if isinstance(template, str):
        if merged:
            return put(
                template.replace(_SYSTEM_SENTINEL, "").replace(
                    _USER_SENTINEL, _SYSTEM_SENTINEL + "\n\n" + _USER_SENTINEL
                )
            )
        return put(template)
    items = PromptList()
    for item in template:
        if isinstance(item, dict) and "prompt" in item:
            text = item["prompt"]
            if merged:
                if item.get("role") == "SYSTEM" and text.strip() == _SYSTEM_SENTINEL:
                    continue
                text = text.replace(_USER_SENTINEL, _SYSTEM_SENTINEL + "\n\n" + _USER_SENTINEL)
            item = {**item, "prompt": put(text)}
        items.append(item)
    return items


def _has_system(prompt: Any) -> bool:
    return isinstance(prompt, list) and any(
        isinstance(item, dict) and item.get("role") == "SYSTEM" for item in prompt
    )


def _elide(text: str) -> str:
    if len(text) <= 2 * STORED_PROMPT_EDGE + 200:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    cut = len(text) - 2 * STORED_PROMPT_EDGE
    return (
        text[:STORED_PROMPT_EDGE]
        + f"\n...[{cut} characters elided by longrm-tasks; sha256 {digest}]...\n"
        + text[-STORED_PROMPT_EDGE:]
    )


class LongRMRewardInferencer(BaseInferencer):
    """Scores every presented response of each row with a scalar reward model (spec §5).

    Works with :class:`~.models.LongRMRewardModel` (``model.rewards(prompt_template, slots)``). The
    prediction of a row is its rewards as JSON (slot order); ``truncation`` says whether a sequence was
    parity-cut (spec §6). Resumable like ``GenInferencer``.
    """

    def inference(
        self,
        retriever: Any,
        ice_template: Any = None,
        prompt_template: Any = None,
        output_json_filepath: str | None = None,
        output_json_filename: str | None = None,
    ) -> list[str]:
        """One reward per presented response, per test row."""
        if not callable(getattr(self.model, "rewards", None)):
            raise TypeError(
                f"{type(self.model).__name__} is not a scalar reward model: the Long-RewardBench RM datasets "
                "need longrm_tasks.adapters.opencompass.models.LongRMRewardModel"
            )
        out_dir = output_json_filepath or self.output_json_filepath
        out_name = output_json_filename or self.output_json_filename
        handler = GenInferencerOutputHandler()
        tmp_name = Path("tmp_" + out_name).with_suffix(".jsonl").name
        start = len(handler.restore_from_jsonl(out_dir, tmp_name))
        rows = retriever.test_ds
        cut_sequences = 0
        for index in range(start, len(rows)):
            row = rows[index]
            rewards, cut, lengths = self.model.rewards(row["prompt_template"], row["slots"])
            cut_sequences += sum(cut)
            handler.save_results(f"{len(lengths)} sequences, {lengths} tokens", json.dumps(rewards), index)
            handler.results_dict[str(index)].update(
                gold=row[GOLD_COLUMN],
                uid=row["uid"],
                rewards=rewards,
                truncation=CUT if any(cut) else NOT_CUT,
                sequence_tokens=lengths,
            )
            if self.is_main_process:
                handler.write_to_jsonl(out_dir, tmp_name)
        if cut_sequences:
            logger.info(f"Long-RewardBench RM: {cut_sequences} sequences were parity-cut (spec §6)")
        if self.is_main_process:
            os.makedirs(out_dir, exist_ok=True)
            handler.write_to_json(out_dir, out_name)
            if osp.exists(osp.join(out_dir, tmp_name)):
                os.remove(osp.join(out_dir, tmp_name))
        return [result["prediction"] for result in handler.results_dict.values()]
