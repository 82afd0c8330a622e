"""Parity truncation (spec §6): prompts of 131,072+ tokens keep their first 65,536 and last 65,531
tokens, decoded back to text.

The cut is expressed as a shortened user message, chosen so that the renderer (the model's own chat
template, or the plain layout) gives exactly the official cut text; backends that render the messages
themselves (chat-completions servers) then see what the official evaluator sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..constants import PARITY_HEAD_TOKENS, PARITY_MAX_TOKENS, PARITY_TAIL_TOKENS
from ..rendering import JudgePrompt, Renderer
from . import CUT, CUT_APPROX, NOT_CUT
from .tokenizers import token_ids

#: A tokenizer never yields more tokens than UTF-8 bytes (plus a handful of markers), so texts this far
#: below a limit are known to fit without tokenizing them.
BYTES_MARGIN = 256


def parity_cut(ids: Sequence[int]) -> list[int] | None:
    """The official head+tail cut of ``ids``, or ``None`` when the prompt is short enough."""
    if len(ids) < PARITY_MAX_TOKENS:
        return None
    return list(ids[:PARITY_HEAD_TOKENS]) + list(ids[-PARITY_TAIL_TOKENS:])


def surely_within(text: str, limit: int) -> bool:
    """Whether ``text`` has at most ``limit`` tokens, decided from its byte length alone."""
    return len(text.encode("utf-8")) + BYTES_MARGIN <= limit


@dataclass(frozen=True)
class ParityResult:
    """Outcome for one prompt: the prompt to send, the user message that produced it, its parity status,
    its token count (``None`` when it was known to be short without tokenizing; for a cut prompt the
    official cut's count) and the count before the cut."""

    prompt: JudgePrompt
    user: str
    status: str
    prompt_tokens: int | None
    uncut_tokens: int | None = None


class ParityTruncator:
    """Applies spec §6 to judge prompts rendered by ``renderer`` (which must know the prompt text)."""

    def __init__(self, renderer: Renderer) -> None:
        if renderer.tokenizer is None or not renderer.knows_text:
            raise ValueError("parity truncation needs the model's tokenizer and the prompt text")
        self.renderer = renderer
        self.tokenizer: Any = renderer.tokenizer

    def truncate(self, system: str, user: str) -> ParityResult:
        """Cut the user message so the rendered prompt equals the official cut text."""
        prompt = self.renderer.render(system, user)
        text = prompt.text or ""
        if surely_within(text, PARITY_MAX_TOKENS - 1):
            return ParityResult(prompt, user, NOT_CUT, None)
        ids = token_ids(self.tokenizer, text)
        kept = parity_cut(ids)
        if kept is None:
            return ParityResult(prompt, user, NOT_CUT, len(ids))
        cut_text = self.tokenizer.decode(kept)
        prefix, suffix = self.renderer.frame(system, "", "", prompt.placement)
        if (
            cut_text.startswith(prefix)
            and cut_text.endswith(suffix)
            and len(cut_text) >= len(prefix) + len(suffix)
        ):
            content = cut_text[len(prefix) : len(cut_text) - len(suffix)]
            return ParityResult(self.renderer.render(system, content), content, CUT, len(kept), len(ids))
        # The cut fell outside the user message: cut the user message alone to the same budget.
        user_ids = token_ids(self.tokenizer, user)
        head = max(PARITY_HEAD_TOKENS - len(token_ids(self.tokenizer, prefix)), 0)
        tail = max(PARITY_TAIL_TOKENS - len(token_ids(self.tokenizer, suffix)), 0)
        content = self.tokenizer.decode(user_ids[:head]) + self.tokenizer.decode(
            user_ids[-tail:] if tail else []
        )
        prompt = self.renderer.render(system, content)
        return ParityResult(
            prompt, content, CUT_APPROX, len(token_ids(self.tokenizer, prompt.text or "")), len(ids)
        )
