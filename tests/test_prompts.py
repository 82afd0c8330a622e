"""Judge prompts, byte for byte (spec §3).

Every expected string below is a literal copied from the spec (system prompts) or written out by
hand from the spec's user-message template; none is built with the package's own helpers.
"""

from __future__ import annotations

import re

import pytest

from longrm_tasks import prompts

# Copied verbatim from spec §3 (one line; 'second user question' is in the original).
PAIRWISE_EXPECTED = 'Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user questions. You should focus on who provides a better answer to the second user question. You should choose the assistant that follows the user\'s instructions and answers the user\'s question better. Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of their responses. Begin your evaluation by comparing the two responses and provide a short explanation. Avoid any position biases and ensure that the order in which the responses were presented does not influence your decision. Do not allow the length of the responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective as possible. After providing your explanation, output your final verdict by strictly following this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better.'  # noqa: E501
# Spec §3 best-of-N prompt, {number} -> 2, {pattern} -> [[A>B]]; no space before 'Please'.
BON2_EXPECTED = "Please act as an impartial judge and evaluate the quality of the responses provided by multiple AI assistants to the user's question. You should rank 2 responses based on their quality, with the highest quality response first, followed by the next best, and so on. Consider the following factors in your evaluation: helpfulness, relevance, accuracy, depth, creativity, and level of detail. Do not allow the order in which the responses were presented to influence your decision. Your ranking should be based purely on the overall quality of each response, not on the length or the name of the assistants. After evaluating the responses, please output the ranking of the assistants in the following format: [[A>B]]Please reply strictly in the following format, starting with [Analysis] and ending with patterns like [[A>B]]:\n[Analysis]\n(your analysis)\n[Ranking]\n(your ranking in the format of [[A>B]])"  # noqa: E501
# Spec §3 best-of-N prompt, {number} -> 3, {pattern} -> [[A>B>C]]; no space before 'Please'.
BON3_EXPECTED = "Please act as an impartial judge and evaluate the quality of the responses provided by multiple AI assistants to the user's question. You should rank 3 responses based on their quality, with the highest quality response first, followed by the next best, and so on. Consider the following factors in your evaluation: helpfulness, relevance, accuracy, depth, creativity, and level of detail. Do not allow the order in which the responses were presented to influence your decision. Your ranking should be based purely on the overall quality of each response, not on the length or the name of the assistants. After evaluating the responses, please output the ranking of the assistants in the following format: [[A>B>C]]Please reply strictly in the following format, starting with [Analysis] and ending with patterns like [[A>B>C]]:\n[Analysis]\n(your analysis)\n[Ranking]\n(your ranking in the format of [[A>B>C]])"  # noqa: E501
# Spec §3 best-of-N prompt, {number} -> 4, {pattern} -> [[A>B>C>D]]; no space before 'Please'.
BON4_EXPECTED = "Please act as an impartial judge and evaluate the quality of the responses provided by multiple AI assistants to the user's question. You should rank 4 responses based on their quality, with the highest quality response first, followed by the next best, and so on. Consider the following factors in your evaluation: helpfulness, relevance, accuracy, depth, creativity, and level of detail. Do not allow the order in which the responses were presented to influence your decision. Your ranking should be based purely on the overall quality of each response, not on the length or the name of the assistants. After evaluating the responses, please output the ranking of the assistants in the following format: [[A>B>C>D]]Please reply strictly in the following format, starting with [Analysis] and ending with patterns like [[A>B>C>D]]:\n[Analysis]\n(your analysis)\n[Ranking]\n(your ranking in the format of [[A>B>C>D]])"  # noqa: E501

# User messages written out by hand from the spec §3 template: "[User Question]", the question,
# a blank line, then one block per slot separated by blank lines, no trailing newline.
QUESTION = "Context paragraph.\n\nWhat is the answer?"
USER_2_EXPECTED = "\n".join(
    [
        "[User Question]",
        "Context paragraph.",
        "",
        "What is the answer?",
        "",
        "[The Start of Assistant A's Answer]",
        "first",
        "[The End of Assistant A's Answer]",
        "",
        "[The Start of Assistant B's Answer]",
        "second",
        "[The End of Assistant B's Answer]",
    ]
)
USER_3_EXPECTED = "\n".join(
    [
        "[User Question]",
        "Context paragraph.",
        "",
        "What is the answer?",
        "",
        "[The Start of Assistant A's Answer]",
        "first",
        "[The End of Assistant A's Answer]",
        "",
        "[The Start of Assistant B's Answer]",
        "second",
        "[The End of Assistant B's Answer]",
        "",
        "[The Start of Assistant C's Answer]",
        "third",
        "[The End of Assistant C's Answer]",
    ]
)
USER_4_EXPECTED = "\n".join(
    [
        "[User Question]",
        "Context paragraph.",
        "",
        "What is the answer?",
        "",
        "[The Start of Assistant A's Answer]",
        "first",
        "[The End of Assistant A's Answer]",
        "",
        "[The Start of Assistant B's Answer]",
        "second",
        "[The End of Assistant B's Answer]",
        "",
        "[The Start of Assistant C's Answer]",
        "third",
        "[The End of Assistant C's Answer]",
        "",
        "[The Start of Assistant D's Answer]",
        "fourth",
        "[The End of Assistant D's Answer]",
    ]
)


def test_pairwise_system_prompt_verbatim():
    assert prompts.PAIRWISE_SYSTEM_PROMPT == PAIRWISE_EXPECTED
    assert "\n" not in prompts.PAIRWISE_SYSTEM_PROMPT  # one line in the spec
    assert "second user question" in prompts.PAIRWISE_SYSTEM_PROMPT


@pytest.mark.parametrize(("n", "expected"), [(2, BON2_EXPECTED), (3, BON3_EXPECTED), (4, BON4_EXPECTED)])
def test_best_of_n_system_prompt_verbatim(n, expected):
    got = prompts.best_of_n_system_prompt(n)
    assert got == expected
    assert "{number}" not in got and "{pattern}" not in got
    # the pattern is glued to "Please" and the last three lines are real newlines
    assert "]]Please reply strictly" in got
    assert got.count("\n") == 4
    assert got.endswith("[Ranking]\n(your ranking in the format of " + prompts.ranking_pattern(n) + ")")


@pytest.mark.parametrize(
    ("tasktype", "n_slots", "expected"),
    [
        ("PairWise", 2, PAIRWISE_EXPECTED),
        ("BestOfN", 2, BON2_EXPECTED),  # N = 2 best-of-N still gets the ranking prompt
        ("BestOfN", 3, BON3_EXPECTED),
        ("BestOfN", 4, BON4_EXPECTED),
    ],
)
def test_system_prompt_by_tasktype(tasktype, n_slots, expected):
    assert prompts.system_prompt(tasktype, n_slots) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(2, "[[A>B]]"), (3, "[[A>B>C]]"), (4, "[[A>B>C>D]]"), (5, "[[A>B>C>D>E]]")],
)
def test_ranking_pattern(n, expected):
    assert prompts.ranking_pattern(n) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ([{"role": "user", "content": "only"}], "only"),
        (
            [{"role": "system", "content": "sys"}, {"role": "user", "content": "usr"}],
            "sys\n\nusr",  # contents joined by a blank line, roles dropped
        ),
        (
            [
                {"role": "system", "content": "a\n"},
                {"role": "user", "content": ""},
                {"role": "assistant", "content": " c "},
            ],
            "a\n\n\n\n\n c ",  # no stripping: "a\n" + "\n\n" + "" + "\n\n" + " c "
        ),
    ],
)
def test_context_text(template, expected):
    assert prompts.context_text(template) == expected


@pytest.mark.parametrize(
    ("slots", "expected"),
    [
        (["first", "second"], USER_2_EXPECTED),
        (["first", "second", "third"], USER_3_EXPECTED),
        (["first", "second", "third", "fourth"], USER_4_EXPECTED),
    ],
)
def test_user_prompt(slots, expected):
    assert prompts.user_prompt(QUESTION, slots) == expected


def test_judge_messages_pairwise():
    template = [
        {"role": "system", "content": "Context paragraph."},
        {"role": "user", "content": "What is the answer?"},
    ]
    assert prompts.judge_messages(template, "PairWise", ["first", "second"]) == [
        {"role": "system", "content": PAIRWISE_EXPECTED},
        {"role": "user", "content": USER_2_EXPECTED},
    ]


@pytest.mark.parametrize(
    ("slots", "system", "user"),
    [
        (["first", "second"], BON2_EXPECTED, USER_2_EXPECTED),
        (["first", "second", "third"], BON3_EXPECTED, USER_3_EXPECTED),
        (["first", "second", "third", "fourth"], BON4_EXPECTED, USER_4_EXPECTED),
    ],
)
def test_judge_messages_best_of_n(slots, system, user):
    template = [{"role": "user", "content": QUESTION}]
    assert prompts.judge_messages(template, "BestOfN", slots) == [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]


TRICKY_CONTEXT = "Use {question} and {0} and {{ x }} and {% if cond %}yes{% endif %} and [[A]] and %s and \\n"
TRICKY_SLOT_A = "Answer {slot A} with {{ y }}, {%raw%} [[B]] {}"
TRICKY_SLOT_B = "}{ [[A>B]] {number} {pattern}"


def test_braces_and_jinja_pass_through_verbatim():
    template = [
        {"role": "system", "content": TRICKY_CONTEXT},
        {"role": "user", "content": "Q?"},
    ]
    messages = prompts.judge_messages(template, "PairWise", [TRICKY_SLOT_A, TRICKY_SLOT_B])
    expected_user = (
        "[User Question]\n"
        + TRICKY_CONTEXT
        + "\n\nQ?\n\n"
        + "[The Start of Assistant A's Answer]\n"
        + TRICKY_SLOT_A
        + "\n[The End of Assistant A's Answer]\n\n"
        + "[The Start of Assistant B's Answer]\n"
        + TRICKY_SLOT_B
        + "\n[The End of Assistant B's Answer]"
    )
    assert messages[1]["content"] == expected_user
    assert messages[0]["content"] == PAIRWISE_EXPECTED


def test_braces_do_not_leak_into_best_of_n_system_prompt():
    template = [{"role": "user", "content": "{number} {pattern} {{ x }}"}]
    messages = prompts.judge_messages(template, "BestOfN", ["{pattern}", "{number}", "{% if %}"])
    assert messages[0]["content"] == BON3_EXPECTED
    assert messages[1]["content"] == (
        "[User Question]\n{number} {pattern} {{ x }}\n\n"
        "[The Start of Assistant A's Answer]\n{pattern}\n[The End of Assistant A's Answer]\n\n"
        "[The Start of Assistant B's Answer]\n{number}\n[The End of Assistant B's Answer]\n\n"
        "[The Start of Assistant C's Answer]\n{% if %}\n[The End of Assistant C's Answer]"
    )


def test_prompt_set_identity():
    assert isinstance(prompts.PROMPT_SET_ID, str) and prompts.PROMPT_SET_ID
    digest = prompts.prompt_set_sha256()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert prompts.prompt_set_sha256() == digest  # stable within a process
