"""The one chat-template policy (spec §3 and its addition for templates that refuse a system message),
and parity truncation measured on exactly the prompt that is sent."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from support.chat_templates import PLACEMENT, TEMPLATES, expected_messages, expected_prompt, with_template
from support.tiny_models import build_tokenizer

from longrm_tasks.constants import PARITY_HEAD_TOKENS, PARITY_MAX_TOKENS, PARITY_TAIL_TOKENS
from longrm_tasks.rendering import MERGED, PLAIN, SYSTEM, Renderer, RenderError
from longrm_tasks.truncation import CUT, NOT_CUT
from longrm_tasks.truncation.parity import ParityTruncator

SYSTEM_TEXT = "Please act as an impartial judge. Output [[A]] or [[B]]."
USER_TEXT = (
    "[User Question]\nWhat is {question}?\n\n[The Start of Assistant A's Answer]\n42\n[The End of ...]"
)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_behaviour_gets_the_prompt_the_rule_prescribes(tokenizer, name: str) -> None:
    renderer = Renderer(with_template(tokenizer, name))
    prompt = renderer.render(SYSTEM_TEXT, USER_TEXT)
    assert prompt.placement == PLACEMENT[name]
    assert prompt.text == expected_prompt(name, tokenizer, SYSTEM_TEXT, USER_TEXT)
    assert prompt.message_list() == expected_messages(name, SYSTEM_TEXT, USER_TEXT)
    # The instructions are in the prompt exactly once, before the user message.
    assert prompt.text.count(SYSTEM_TEXT) == 1
    assert prompt.text.index(SYSTEM_TEXT) < prompt.text.index("What is {question}?")
    assert renderer.provenance()["system_placement"] == PLACEMENT[name]
    assert renderer.thinking_switch() is (name == "thinking")


def test_thinking_stays_off_unless_the_user_turns_it_on(tokenizer) -> None:
    tokenizer = with_template(tokenizer, "thinking")
    off = Renderer(tokenizer).render(SYSTEM_TEXT, USER_TEXT).text
    on = Renderer(tokenizer, {"enable_thinking": True}).render(SYSTEM_TEXT, USER_TEXT).text
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert on.endswith("<|im_start|>assistant\n")
    assert Renderer(tokenizer, {"foo": 1}).template_args == {"enable_thinking": False, "foo": 1}


def test_plain_layout_without_a_chat_template(tokenizer) -> None:
    with_template(tokenizer, "accepts")
    for renderer in (Renderer(tokenizer, chat=False), Renderer(None, chat=False)):
        prompt = renderer.render(SYSTEM_TEXT, USER_TEXT)
        assert prompt.placement == PLAIN
        assert prompt.text == SYSTEM_TEXT + "\n\n" + USER_TEXT + "\n\n"


def test_a_chat_server_with_an_unknown_template_gets_a_real_system_message() -> None:
    prompt = Renderer(None).render(SYSTEM_TEXT, USER_TEXT)
    assert prompt.text is None and prompt.sha256() is None
    assert prompt.placement == SYSTEM
    assert prompt.message_list() == expected_messages("accepts", SYSTEM_TEXT, USER_TEXT)


def test_a_template_that_drops_system_messages_silently_gets_them_merged(tokenizer) -> None:
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] != 'system' %}<u>{{ m['content'] }}</u>{% endif %}"
        "{% endfor %}"
    )
    prompt = Renderer(tokenizer).render(SYSTEM_TEXT, USER_TEXT)
    assert prompt.placement == MERGED
    assert prompt.text == f"<u>{SYSTEM_TEXT}\n\n{USER_TEXT}</u>"


def test_a_template_that_rejects_only_some_contents_merges_those_samples(tokenizer) -> None:
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' and 'secret' in messages[-1]['content'] %}"
        "{{ raise_exception('no system with secrets') }}{% endif %}[{{ m['role'] }}]{{ m['content'] }}"
        "{% endfor %}"
    )
    renderer = Renderer(tokenizer)
    assert renderer.render(SYSTEM_TEXT, "plain").placement == SYSTEM
    merged = renderer.render(SYSTEM_TEXT, "a secret")
    assert merged.placement == MERGED and merged.text == f"[user]{SYSTEM_TEXT}\n\na secret"


def test_a_template_that_cannot_render_a_user_turn_is_a_clear_error(tokenizer) -> None:
    tokenizer.chat_template = "{{ raise_exception('broken template') }}"
    with pytest.raises(RenderError, match="broken template"):
        Renderer(tokenizer).render(SYSTEM_TEXT, USER_TEXT)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_frame_surrounds_the_user_part_exactly(tokenizer, name: str) -> None:
    renderer = Renderer(with_template(tokenizer, name))
    prefix, suffix = renderer.frame(SYSTEM_TEXT, "[User Question]\n", "\n\nanswers")
    text = renderer.render(SYSTEM_TEXT, "[User Question]\ncontext\n\nanswers").text
    assert prefix + "context" + suffix == text


def _long_user(tokenizer, tokens: int) -> str:
    words = ["harbour", "minutes", "committee", "decision", "assistant", "answer", "town", "record"]
    text, chunk = [], " ".join(words * 50)
    per_chunk = len(tokenizer(chunk, add_special_tokens=False)["input_ids"])
    for _ in range(tokens // per_chunk + 2):
        text.append(chunk)
    return "[User Question]\n" + " ".join(text) + "\n\n[The Start of Assistant A's Answer]\nyes"


@pytest.mark.parametrize("name", ["accepts", "raises_on_system", "folds"])
def test_parity_cut_measures_the_prompt_as_sent(tokenizer, name: str) -> None:
    """The official cut of the prompt the judge really receives (merged instructions included)."""
    with_template(tokenizer, name)
    user = _long_user(tokenizer, PARITY_MAX_TOKENS + 500)
    sent = expected_prompt(name, tokenizer, SYSTEM_TEXT, user)
    ids = tokenizer(sent, add_special_tokens=False)["input_ids"]
    assert len(ids) >= PARITY_MAX_TOKENS
    official = tokenizer.decode(ids[:PARITY_HEAD_TOKENS] + ids[-PARITY_TAIL_TOKENS:])
    result = ParityTruncator(Renderer(tokenizer)).truncate(SYSTEM_TEXT, user)
    assert result.status == CUT and result.uncut_tokens == len(ids)
    assert result.prompt_tokens == PARITY_HEAD_TOKENS + PARITY_TAIL_TOKENS
    assert result.prompt.text == official
    assert result.prompt.placement == PLACEMENT[name]
    short = ParityTruncator(Renderer(tokenizer)).truncate(SYSTEM_TEXT, USER_TEXT)
    assert short.status == NOT_CUT and short.prompt.text == expected_prompt(
        name, tokenizer, SYSTEM_TEXT, USER_TEXT
    )
