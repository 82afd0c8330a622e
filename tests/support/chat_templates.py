"""Judge chat templates with the five behaviours real instruction models show, written out for tests.

- ``accepts``: a real system turn (ChatML, as Qwen2.5 / SmolLM2).
- ``raises_on_system``: raises "System role not supported" (as Gemma 2's template does).
- ``alternation``: raises unless roles alternate user/assistant from the first message (Llama 2 /
  Mistral v0.1 style), so a system message first is rejected.
- ``thinking``: ChatML with a thinking switch: ``enable_thinking=False`` adds an empty think block after the
  generation prompt (as Qwen3's template does).
- ``folds``: accepts a system message but folds it into the first user turn itself, joined by a blank
  line (as Gemma 3's template does).

``expected_prompt`` renders what each judge must receive, from the spec's rule (spec §3 and its
addition: templates that refuse a system message get it merged into the first user turn), independently
of the package's renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ACCEPTS = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
RAISES_ON_SYSTEM = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
ALTERNATION = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if message['role'] == 'user' %}[INST] {{ message['content'] }} [/INST]"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] }}{{ eos_token }}{% endif %}"
    "{% endfor %}"
)
THINKING = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}"
)
FOLDS = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set first_user_prefix = messages[0]['content'] + '\n\n' %}{% set loop_messages = messages[1:] %}"
    "{% else %}{% set first_user_prefix = '' %}{% set loop_messages = messages %}{% endif %}"
    "{% for message in loop_messages %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{{ first_user_prefix if loop.first else '' }}{{ message['content'] | trim }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)

TEMPLATES = {
    "accepts": ACCEPTS,
    "raises_on_system": RAISES_ON_SYSTEM,
    "alternation": ALTERNATION,
    "thinking": THINKING,
    "folds": FOLDS,
}
#: Where each template must end up putting the judge instructions (the recorded placement).
PLACEMENT = {
    "accepts": "system",
    "raises_on_system": "merged",
    "alternation": "merged",
    "thinking": "system",
    "folds": "folded",
}


def expected_messages(name: str, system: str, user: str) -> list[dict[str, str]]:
    """The messages a chat API must receive: merged only where the template refuses a system turn."""
    if PLACEMENT[name] == "merged":
        return [{"role": "user", "content": system + "\n\n" + user}]
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def expected_prompt(name: str, tokenizer: Any, system: str, user: str) -> str:
    """The exact prompt text the judge must receive, written out per template (not via the package)."""
    bos = tokenizer.bos_token or ""
    if name == "accepts":
        return (
            f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n"
        )
    if name == "thinking":
        return (
            f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n<think>\n\n</think>\n\n"
        )
    merged = system + "\n\n" + user
    if name == "raises_on_system":
        return f"{bos}<start_of_turn>user\n{merged.strip()}<end_of_turn>\n<start_of_turn>model\n"
    if name == "alternation":
        return f"{bos}[INST] {merged} [/INST]"
    if name == "folds":
        return f"{bos}<start_of_turn>user\n{system}\n\n{user.strip()}<end_of_turn>\n<start_of_turn>model\n"
    raise KeyError(name)


def with_template(tokenizer: Any, name: str) -> Any:
    """``tokenizer`` with the named judge template (in place; returned for chaining)."""
    tokenizer.chat_template = TEMPLATES[name]
    return tokenizer


def save_with_templates(source: Path, base: Path, prefix: str = "tokenizer-") -> dict[str, Path]:
    """The tokenizer in ``source`` saved once per template behaviour, as ``base/<prefix><name>``."""
    from transformers import AutoTokenizer

    folders = {}
    for name, template in TEMPLATES.items():
        tokenizer = AutoTokenizer.from_pretrained(source)
        tokenizer.chat_template = template
        tokenizer.save_pretrained(base / f"{prefix}{name}")
        folders[name] = base / f"{prefix}{name}"
    return folders
