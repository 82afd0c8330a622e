"""The judge prompt as sent: the one chat-template policy of every harness and backend (spec §3).

The judge sees two messages, the instructions (system) and the question with the presented responses
(user). How they become a prompt depends on the judge's chat template, and this module alone decides it:

- a template that renders a system message gets a real system turn (placement ``system``);
- a template that folds a system message into the first user turn itself (Gemma style) is left to do so
  (``folded``);
- a template that refuses a system message (raises, e.g. "System role not supported", or demands strict
  user/assistant alternation) or silently drops it gets the instructions merged into the first user turn,
  ``system + "\\n\\n" + user`` (``merged``; the official evaluator fails on such judges, so no parity
  number exists for them);
- without a chat template the documented plain layout ``system + "\\n\\n" + user + "\\n\\n"`` (``plain``).

Templates are applied with the generation prompt and ``enable_thinking=False`` unless the user sets it.
The text returned is what parity truncation measures and what a text backend receives; chat APIs receive
the messages, whose server-side rendering with the same template is that text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import LongRMError

SYSTEM, FOLDED, MERGED, PLAIN = "system", "folded", "merged", "plain"
#: Where the judge instructions end up, per sample (recorded in every result).
PLACEMENTS = (SYSTEM, FOLDED, MERGED, PLAIN)
#: Between the instructions and the user message when they share one text.
SEPARATOR = "\n\n"

_SYSTEM_PROBE = "\ue000LONGRM-SYSTEM\ue000"
_USER_PROBE = "\ue000LONGRM-USER\ue000"
_PART = "\ue000LONGRM-PART\ue000"


class RenderError(LongRMError):
    """A chat template cannot render the judge prompt at all (not even with merged instructions)."""


def plain_layout(system: str, user: str) -> str:
    """The prompt text without a chat template."""
    return system + SEPARATOR + user + SEPARATOR


def merged_user(system: str, user: str) -> str:
    """The first user turn when the instructions cannot have a turn of their own."""
    return system + SEPARATOR + user


def with_instruction(system: str, instruction: str | None) -> str:
    """A harness's own system instruction (e.g. lm-eval ``--system_instruction``) before the judge's
    instructions: not parity, but kept in the same message."""
    return instruction + SEPARATOR + system if instruction else system


def template_arguments(
    user_args: Mapping[str, Any] | None = None, enable_thinking: bool | None = None
) -> dict:
    """Chat-template arguments: ``enable_thinking=False`` (as the official evaluator renders), then the
    user's own arguments, then an explicit ``enable_thinking``."""
    args: dict[str, Any] = {"enable_thinking": False, **(user_args or {})}
    if enable_thinking is not None:
        args["enable_thinking"] = enable_thinking
    return args


def messages_for(system: str, user: str, placement: str) -> list[dict[str, str]]:
    """The chat messages sent for ``placement``."""
    if placement == MERGED:
        return [{"role": "user", "content": merged_user(system, user)}]
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class JudgePrompt:
    """One judge prompt: the messages a chat API receives and, when the template is known, the text."""

    messages: tuple[Mapping[str, str], ...]
    text: str | None
    placement: str

    def message_list(self) -> list[dict[str, str]]:
        """The messages as plain dicts (what a harness's chat interface takes)."""
        return [dict(message) for message in self.messages]

    def sha256(self) -> str | None:
        """Digest of the text (recorded per sample: what was measured is what was sent)."""
        return None if self.text is None else hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Renderer:
    """Renders judge prompts for one model: its tokenizer (or none), template arguments, whether the
    harness applies a chat template at all (lm-eval without ``--apply_chat_template`` does not), and
    whether the harness can carry a system turn to the model at all (``system_turn=False``: merge)."""

    def __init__(
        self,
        tokenizer: Any = None,
        template_args: Mapping[str, Any] | None = None,
        *,
        chat: bool = True,
        system_turn: bool = True,
    ) -> None:
        self.tokenizer = tokenizer
        self.template_args = template_arguments(template_args)
        self.chat = chat
        self.system_turn = system_turn
        self.template = getattr(tokenizer, "chat_template", None) if chat else None
        self._placement: str | None = None
        self._thinking_switch: bool | None = None

    # -- what kind of prompt -------------------------------------------------------------------
    @property
    def knows_text(self) -> bool:
        """Whether the exact prompt text is known (False: a chat server renders with its own template)."""
        return not self.chat or bool(self.template)

    def placement(self) -> str:
        """Where this template puts the judge instructions (probed once, with placeholder texts)."""
        if self._placement is None:
            self._placement = self._probe()
        return self._placement

    def _probe(self) -> str:
        if not self.chat:
            return PLAIN
        if not self.system_turn:
            return MERGED
        if not self.template:
            return SYSTEM  # a chat server with an unknown template: the instructions go as a system message
        try:
            with_system = self._apply(messages_for(_SYSTEM_PROBE, _USER_PROBE, SYSTEM))
        except Exception:  # "System role not supported", strict alternation, any template error
            return MERGED
        if _SYSTEM_PROBE not in with_system:
            return MERGED  # the template drops system messages: the instructions would be lost
        try:
            user_only = self._apply([{"role": "user", "content": _USER_PROBE}])
        except Exception as error:
            raise RenderError(f"the chat template cannot render a user message: {error}") from None
        before, _, after = user_only.partition(_USER_PROBE)
        middle = with_system[len(before) : len(with_system) - len(after)]
        folded = (
            with_system.startswith(before)
            and with_system.endswith(after)
            and middle.startswith(_SYSTEM_PROBE)
            and middle.endswith(_USER_PROBE)
        )
        return FOLDED if folded else SYSTEM

    def thinking_switch(self) -> bool:
        """Whether the template reads ``enable_thinking`` (its output changes with it)."""
        if self._thinking_switch is None:
            self._thinking_switch = False
            if self.template:
                messages = messages_for(_SYSTEM_PROBE, _USER_PROBE, self.placement())
                try:
                    on = self._apply(messages, {**self.template_args, "enable_thinking": True})
                    off = self._apply(messages, {**self.template_args, "enable_thinking": False})
                    self._thinking_switch = on != off
                except Exception:
                    self._thinking_switch = False
        return self._thinking_switch

    # -- rendering ---------------------------------------------------------------------------
    def _apply(self, messages: Sequence[Mapping[str, str]], args: Mapping[str, Any] | None = None) -> str:
        return self.tokenizer.apply_chat_template(
            [dict(message) for message in messages],
            tokenize=False,
            add_generation_prompt=True,
            **(self.template_args if args is None else args),
        )

    def render(self, system: str, user: str) -> JudgePrompt:
        """The judge prompt of ``system`` + ``user`` under this renderer's policy."""
        placement = self.placement()
        if placement == PLAIN:
            return JudgePrompt(tuple(messages_for(system, user, MERGED)), plain_layout(system, user), PLAIN)
        if not self.template:
            return JudgePrompt(tuple(messages_for(system, user, placement)), None, placement)
        if placement in (SYSTEM, FOLDED):
            messages = messages_for(system, user, placement)
            try:
                return JudgePrompt(tuple(messages), self._apply(messages), placement)
            except Exception:  # a template that rejects this content with a system turn: merge
                pass
        messages = messages_for(system, user, MERGED)
        try:
            return JudgePrompt(tuple(messages), self._apply(messages), MERGED)
        except Exception as error:
            raise RenderError(f"the chat template cannot render the judge prompt: {error}") from None

    def frame(self, system: str, before: str, after: str, placement: str | None = None) -> tuple[str, str]:
        """``(prefix, suffix)`` of the prompt text around the user-message part between ``before`` and
        ``after``: ``render(system, before + part + after).text == prefix + part + suffix`` (for templates
        that copy message contents verbatim; truncators check the real prompts)."""
        placement = placement or self.placement()
        user = before + _PART + after
        if placement == PLAIN:
            text = plain_layout(system, user)
        elif not self.template:
            raise RenderError("no chat template known: the prompt text is rendered by the server")
        else:
            text = self._apply(messages_for(system, user, placement))
        prefix, found, suffix = text.partition(_PART)
        if not found:
            raise RenderError("the chat template does not copy the user message into the prompt")
        return prefix, suffix

    def provenance(self) -> dict[str, Any]:
        """What a result records about how its prompts were rendered."""
        template = self.template or ""
        return {
            "chat_template": bool(self.template) if self.chat else "not applied (plain layout)",
            "chat_template_sha256": hashlib.sha256(template.encode("utf-8")).hexdigest()
            if template
            else None,
            "template_args": dict(self.template_args) if self.template else {},
            "thinking_switch": self.thinking_switch() if self.template else None,
            "system_placement": self.placement(),
        }
