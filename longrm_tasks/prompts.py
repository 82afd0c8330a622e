"""Judge prompts of the official evaluator (spec §3), as a versioned prompt set."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .constants import BEST_OF_N

#: Identifier of this prompt set; recorded in every result. Bump it if any text below changes.
PROMPT_SET_ID = "longrm-official-v1"

PAIRWISE_SYSTEM_PROMPT = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two "
    "AI assistants to the user questions. You should focus on who provides a better answer to the "
    "second user question. You should choose the assistant that follows the user's instructions "
    "and answers the user's question better. Your evaluation should consider factors such as the "
    "helpfulness, relevance, accuracy, depth, creativity, and level of detail of their responses. "
    "Begin your evaluation by comparing the two responses and provide a short explanation. Avoid "
    "any position biases and ensure that the order in which the responses were presented does not "
    "influence your decision. Do not allow the length of the responses to influence your "
    "evaluation. Do not favor certain names of the assistants. Be as objective as possible. After "
    "providing your explanation, output your final verdict by strictly following this format: "
    '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better.'
)

BEST_OF_N_SYSTEM_TEMPLATE = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by "
    "multiple AI assistants to the user's question. You should rank {number} responses based on "
    "their quality, with the highest quality response first, followed by the next best, and so on. "
    "Consider the following factors in your evaluation: helpfulness, relevance, accuracy, depth, "
    "creativity, and level of detail. Do not allow the order in which the responses were presented "
    "to influence your decision. Your ranking should be based purely on the overall quality of each "
    "response, not on the length or the name of the assistants. After evaluating the responses, "
    "please output the ranking of the assistants in the following format: {pattern}Please reply "
    "strictly in the following format, starting with [Analysis] and ending with patterns like "
    "{pattern}:\n[Analysis]\n(your analysis)\n[Ranking]\n(your ranking in the format of {pattern})"
)


def slot_letter(position: int) -> str:
    """Letter of presented slot ``position`` (0 → ``A``)."""
    return chr(65 + position)


def ranking_pattern(n: int) -> str:
    """The verdict pattern shown to the judge, e.g. ``[[A>B>C]]`` for N = 3."""
    return "[[" + ">".join(slot_letter(p) for p in range(n)) + "]]"


def best_of_n_system_prompt(n: int) -> str:
    """System prompt for ranking ``n`` responses (plain replacement: contexts never enter it)."""
    pattern = ranking_pattern(n)
    return BEST_OF_N_SYSTEM_TEMPLATE.replace("{number}", str(n)).replace("{pattern}", pattern)


def system_prompt(tasktype: str, n_slots: int) -> str:
    """System prompt for a row of ``tasktype`` presented with ``n_slots`` responses."""
    return best_of_n_system_prompt(n_slots) if tasktype == BEST_OF_N else PAIRWISE_SYSTEM_PROMPT


def context_text(prompt_template: Sequence[Mapping[str, str]]) -> str:
    """The ``question`` shown to the judge: every template message's content, blank-line joined."""
    return "\n\n".join(message["content"] for message in prompt_template)


def implicit_reward_context(prompt_template: Sequence[Mapping[str, str]]) -> str:
    """What a causal LM conditions on when it scores a response as an implicit reward (the ``*_rm``
    tasks run with ``--model hf``; not the paper's protocol): the conversation, then a blank line."""
    return context_text(prompt_template) + "\n\n"


#: The user message starts with this line; the context (``question``) follows it directly.
QUESTION_PREFIX = "[User Question]\n"


def user_prompt_frame(slots: Sequence[str]) -> tuple[str, str]:
    """The user message before and after its context (the ``question``), for responses ``slots`` in
    presented order: ``user_prompt(question, slots) == before + question + after``."""
    blocks = [
        f"[The Start of Assistant {slot_letter(p)}'s Answer]\n"
        + text
        + f"\n[The End of Assistant {slot_letter(p)}'s Answer]"
        for p, text in enumerate(slots)
    ]
    return QUESTION_PREFIX, "\n\n" + "\n\n".join(blocks)


def user_prompt(question: str, slots: Sequence[str]) -> str:
    """User message with the responses in presented order (built by concatenation, never
    ``str.format``, so braces in contexts or responses pass through verbatim)."""
    before, after = user_prompt_frame(slots)
    return before + question + after


def judge_messages(
    prompt_template: Sequence[Mapping[str, str]], tasktype: str, slots: Sequence[str]
) -> list[dict[str, Any]]:
    """The two chat messages sent to a generative judge."""
    return [
        {"role": "system", "content": system_prompt(tasktype, len(slots))},
        {"role": "user", "content": user_prompt(context_text(prompt_template), slots)},
    ]


def prompt_set_sha256() -> str:
    """Hash of every prompt text of this set, recorded next to :data:`PROMPT_SET_ID`."""
    probe = "\x00".join(
        [PAIRWISE_SYSTEM_PROMPT, BEST_OF_N_SYSTEM_TEMPLATE, user_prompt("{question}", ["{a}", "{b}", "{c}"])]
    )
    return hashlib.sha256(probe.encode("utf-8")).hexdigest()
