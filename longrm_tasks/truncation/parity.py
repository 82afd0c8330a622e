"""Parity truncation (spec §6): prompts of 131,072+ tokens keep their first 65,536 and last 65,531
tokens, decoded back to text.

The cut is expressed as a shortened user message, chosen so that the renderer (the model's own chat
template, or the plain layout) gives exactly the official cut text; backends that render the messages
themselves (chat-completions servers) then see what the official evaluator sent.

Only prompts that may reach the threshold are tokenized (a prompt has at most as many tokens as UTF-8
bytes), in batches on every core; their counts also serve the length check, so no prompt is tokenized
twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..constants import PARITY_HEAD_TOKENS, PARITY_MAX_TOKENS, PARITY_TAIL_TOKENS
from ..rendering import JudgePrompt, Renderer
from . import CUT, CUT_APPROX, NOT_CUT
from .tokenizers import decode, encode_stream, token_ids, tokenizer_fingerprint

Key = TypeVar("Key")

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

    def fingerprint(self) -> dict[str, Any]:
        """What makes two truncators cut identically (for caches)."""
        return {
            "tokenizer_sha256": tokenizer_fingerprint(self.tokenizer),
            "rendering": self.renderer.provenance(),
        }

    def truncate(self, system: str, user: str) -> ParityResult:
        """Cut the user message so the rendered prompt equals the official cut text."""
        return next(self.truncate_many([(None, system, user)]))[1]

    def truncate_many(
        self, items: Iterable[tuple[Key, str, str]], *, count_above: int = PARITY_MAX_TOKENS - 1
    ) -> Iterator[tuple[Key, ParityResult]]:
        """:meth:`truncate` for every ``(key, system, user)``, in order; the prompts that may have more
        than ``count_above`` tokens (at most the parity threshold) are counted, in batches."""
        limit = min(count_above, PARITY_MAX_TOKENS - 1)

        def rendered() -> Iterator[tuple[tuple[Key, str, str, JudgePrompt], str | None]]:
            for key, system, user in items:
                prompt = self.renderer.render(system, user)
                text = prompt.text or ""
                yield (key, system, user, prompt), None if surely_within(text, limit) else text

        for (key, system, user, prompt), encoding in encode_stream(self.tokenizer, rendered()):
            tokens = None if encoding is None else len(encoding)
            kept = parity_cut(encoding.ids) if tokens is not None and tokens >= PARITY_MAX_TOKENS else None
            if kept is None:
                yield key, ParityResult(prompt, user, NOT_CUT, tokens)
            else:
                yield key, self._cut(system, user, prompt, kept, len(encoding))

    def _cut(self, system: str, user: str, prompt: JudgePrompt, kept: list[int], uncut: int) -> ParityResult:
        """The prompt whose text is the decoded ``kept`` tokens of a prompt of ``uncut`` tokens."""
        cut_text = decode(self.tokenizer, kept)
        prefix, suffix = self.renderer.frame(system, "", "", prompt.placement)
        if (
            cut_text.startswith(prefix)
            and cut_text.endswith(suffix)
            and len(cut_text) >= len(prefix) + len(suffix)
        ):
            content = cut_text[len(prefix) : len(cut_text) - len(suffix)]
            return ParityResult(self.renderer.render(system, content), content, CUT, len(kept), uncut)
        # The cut fell outside the user message: cut the user message alone to the same budget.
        user_ids = token_ids(self.tokenizer, user)
        head = max(PARITY_HEAD_TOKENS - len(token_ids(self.tokenizer, prefix)), 0)
        tail = max(PARITY_TAIL_TOKENS - len(token_ids(self.tokenizer, suffix)), 0)
        content = decode(self.tokenizer, user_ids[:head]) + decode(
            self.tokenizer, user_ids[-tail:] if tail else []
        )
        prompt = self.renderer.render(system, content)
        return ParityResult(
            prompt, content, CUT_APPROX, len(token_ids(self.tokenizer, prompt.text or "")), uncut
        )
