"""Parity truncation (spec §6): prompts of 131,072+ tokens keep their first 65,536 and last
65,531 tokens, decoded back to text.

The cut is expressed as a shortened user message, chosen so that the model's chat template
renders exactly the official cut text; harnesses that apply the template themselves (lm-eval's
``--apply_chat_template``, chat-completions servers) then see what the official evaluator sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .constants import PARITY_HEAD_TOKENS, PARITY_MAX_TOKENS, PARITY_TAIL_TOKENS

#: A tokenizer never yields more tokens than UTF-8 bytes (plus a handful of markers), so texts
#: this far below the limit are known to be short without tokenizing them.
_BYTES_MARGIN = 256
_SENTINEL = "\ue000LONGRM-USER-CONTENT\ue000"

NOT_CUT, CUT, CUT_APPROX, UNCHECKED = "none", "cut", "cut-approx", "unchecked"


def parity_cut(ids: Sequence[int]) -> list[int] | None:
    """The official head+tail cut of ``ids``, or ``None`` when the prompt is short enough."""
    if len(ids) < PARITY_MAX_TOKENS:
        return None
    return list(ids[:PARITY_HEAD_TOKENS]) + list(ids[-PARITY_TAIL_TOKENS:])


def plain_layout(messages: Sequence[dict[str, str]]) -> str:
    """Prompt text without a chat template: system prompt, blank line, user message, blank line."""
    return "".join(message["content"] + "\n\n" for message in messages)


@dataclass(frozen=True)
class Truncation:
    """Outcome for one prompt: the messages to send and what happened."""

    messages: list[dict[str, str]]
    status: str
    prompt_tokens: int | None


class ParityTruncator:
    """Applies spec §6 with a model's own tokenizer (and its chat template, if it has one)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))

    def render(self, messages: Sequence[dict[str, str]]) -> str:
        """The prompt text the official evaluator tokenizes for ``messages``."""
        if not self.has_chat_template:
            return plain_layout(messages)
        kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": True}
        try:
            return self.tokenizer.apply_chat_template(list(messages), enable_thinking=False, **kwargs)
        except TypeError:
            return self.tokenizer.apply_chat_template(list(messages), **kwargs)

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def truncate(self, messages: list[dict[str, str]]) -> Truncation:
        """Cut the user message of ``[system, user]`` so the rendered prompt equals the official cut."""
        text = self.render(messages)
        if len(text.encode("utf-8")) + _BYTES_MARGIN < PARITY_MAX_TOKENS:
            return Truncation(messages, NOT_CUT, None)
        ids = self._ids(text)
        kept = parity_cut(ids)
        if kept is None:
            return Truncation(messages, NOT_CUT, len(ids))
        system, user = messages
        cut_text = self.tokenizer.decode(kept)
        prefix, suffix = self.render([system, {"role": "user", "content": _SENTINEL}]).split(_SENTINEL)
        if (
            cut_text.startswith(prefix)
            and cut_text.endswith(suffix)
            and len(cut_text) >= len(prefix) + len(suffix)
        ):
            content = cut_text[len(prefix) : len(cut_text) - len(suffix)]
            return Truncation([system, {"role": "user", "content": content}], CUT, len(ids))
        # The cut fell outside the user message: cut the user message alone to the same budget.
        user_ids = self._ids(user["content"])
        head = max(PARITY_HEAD_TOKENS - len(self._ids(prefix)), 0)
        tail = max(PARITY_TAIL_TOKENS - len(self._ids(suffix)), 0)
        content = self.tokenizer.decode(user_ids[:head]) + self.tokenizer.decode(
            user_ids[-tail:] if tail else []
        )
        return Truncation([system, {"role": "user", "content": content}], CUT_APPROX, len(ids))


def load_truncator(options: dict[str, Any], warn: Callable[[str], None]) -> ParityTruncator | None:
    """Build a truncator from harness model options (``tokenizer`` or ``pretrained`` [+ ``gguf_file``]).

    Returns ``None`` (and warns) when no tokenizer can be loaded: truncation is then recorded as
    unchecked for every sample.
    """
    name = options.get("tokenizer") or options.get("pretrained")
    if not name:
        warn("parity truncation not applied: no tokenizer known (pass tokenizer=... in model_args)")
        return None
    kwargs: dict[str, Any] = {"trust_remote_code": bool(options.get("trust_remote_code", False))}
    if not options.get("tokenizer") and options.get("gguf_file"):
        kwargs["gguf_file"] = options["gguf_file"]
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(name), **kwargs)
    except Exception as error:  # any loading failure: record and go on without truncation
        warn(f"parity truncation not applied: cannot load tokenizer {name!r} ({type(error).__name__})")
        return None
    return ParityTruncator(tokenizer)
