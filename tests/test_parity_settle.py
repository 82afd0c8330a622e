"""Parity settling in one pass: every prompt that may reach the parity threshold or not fit the model is
tokenized once (in batches), its count serves both the parity cut and the length check, and settled
documents come back from the cache exactly as they were built, without tokenizing anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from support.tiny_models import build_tokenizer

from longrm_tasks.constants import PARITY_HEAD_TOKENS, PARITY_MAX_TOKENS, PARITY_TAIL_TOKENS
from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.options import RunOptions
from longrm_tasks.rendering import Renderer
from longrm_tasks.run import ModelLimits, settle_judge_docs
from longrm_tasks.truncation import parity
from longrm_tasks.truncation.budgets import PromptTooLongError

CHUNK = "The harbour council met again and decided nothing of note. "


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return build_tokenizer()


def _tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _rendered(tokenizer: Any, doc: dict[str, Any]) -> str:
    """The ChatML prompt of a document, by the tokenizer's own template (system turn, then user turn)."""
    turns = [{"role": role, "content": doc[f"{role}_prompt"]} for role in ("system", "user")]
    return tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)


def _with_context(doc: dict[str, Any], context: str) -> dict[str, Any]:
    before, after = doc["user_prompt"][:16], doc["user_prompt"][doc["context_end"] :]
    return {**doc, "user_prompt": before + context + after, "context_end": 16 + len(context)}


@pytest.fixture(scope="module")
def docs(tokenizer: Any) -> list[dict[str, Any]]:
    """Sample judge documents; the second holds a prompt over the parity threshold, the fourth one of
    ~100k tokens (more bytes than the threshold has tokens, fewer tokens)."""
    chunk_tokens = _tokens(tokenizer, CHUNK)
    found = [item.to_doc() for item in judge_items(load_sample())][:6]
    found[1] = _with_context(found[1], CHUNK * (PARITY_MAX_TOKENS // chunk_tokens + 50))
    found[3] = _with_context(found[3], CHUNK * (100_000 // chunk_tokens))
    return found


@pytest.fixture
def tokenized(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the parity truncator hands to the tokenizer."""
    seen: list[str] = []
    real = parity.encode_stream

    def recording(tokenizer: Any, items: Any, **kwargs: Any) -> Any:
        def record() -> Any:
            for key, text in items:
                if text is not None:
                    seen.append(text)
                yield key, text

        return real(tokenizer, record(), **kwargs)

    monkeypatch.setattr(parity, "encode_stream", recording)
    return seen


def test_each_long_prompt_is_tokenized_once_and_its_count_serves_both_checks(
    tokenizer: Any, docs: list[dict[str, Any]], tokenized: list[str]
) -> None:
    options = RunOptions(cache_dir="off")
    settled, provenance = settle_judge_docs(docs, Renderer(tokenizer), options, limits=ModelLimits(200_000))
    long_prompt, mid_prompt = _rendered(tokenizer, docs[1]), _rendered(tokenizer, docs[3])
    assert tokenized == [long_prompt, mid_prompt]  # the short ones are known to fit from their bytes
    ids = tokenizer(long_prompt, add_special_tokens=False)["input_ids"]
    official = tokenizer.decode(ids[:PARITY_HEAD_TOKENS] + ids[-PARITY_TAIL_TOKENS:])
    assert settled[1]["truncation"] == "cut" and _rendered(tokenizer, settled[1]) == official
    assert settled[1]["prompt_tokens"] == PARITY_HEAD_TOKENS + PARITY_TAIL_TOKENS
    assert settled[3]["truncation"] == "none" and settled[3]["prompt_tokens"] == _tokens(
        tokenizer, mid_prompt
    )
    for index in (0, 2, 4, 5):
        assert settled[index]["truncation"] == "none" and settled[index]["prompt_tokens"] is None
        assert settled[index]["user_prompt"] == docs[index]["user_prompt"]
    assert provenance["parity_truncation"] == "applied" and provenance["parity_cache"] == "off"


def test_a_model_too_short_for_some_prompts_is_refused_naming_the_first(
    tokenizer: Any, docs: list[dict[str, Any]], tokenized: list[str]
) -> None:
    mid = _tokens(tokenizer, _rendered(tokenizer, docs[3]))
    new_tokens = RunOptions().new_tokens
    limits = ModelLimits(context_length=mid + new_tokens - 1)  # one token short for the 100k prompt
    with pytest.raises(PromptTooLongError) as error:
        settle_judge_docs(docs, Renderer(tokenizer), RunOptions(cache_dir="off"), limits=limits)
    message = str(error.value)
    assert message.startswith(f"sample {docs[1]['uid']} ") and "(and 1 more samples)" in message
    assert f"has {PARITY_HEAD_TOKENS + PARITY_TAIL_TOKENS} tokens after parity truncation" in message
    # Counted once each, with the short prompts whose bytes may exceed the limit: none here.
    assert sorted(map(len, tokenized)) == sorted(len(_rendered(tokenizer, docs[i])) for i in (1, 3))


def test_settled_documents_come_back_from_the_cache_unchanged(
    tokenizer: Any, docs: list[dict[str, Any]], tokenized: list[str], tmp_path: Path
) -> None:
    options = RunOptions(cache_dir=str(tmp_path))
    parts = {"data_sha256": {"sample": "0" * 64}}
    first, provenance = settle_judge_docs(docs, Renderer(tokenizer), options, cache_parts=parts)
    assert provenance["parity_cache"] == "miss" and len(tokenized) == 2
    again, provenance = settle_judge_docs(docs, Renderer(tokenizer), options, cache_parts=parts)
    assert provenance["parity_cache"] == "hit" and len(tokenized) == 2  # nothing tokenized again
    assert again == first
    # The entry stores the cut as a change to the user message, not the 130k-token prompt.
    (entry,) = tmp_path.glob("parity-judge-*.json")
    assert entry.stat().st_size < len(docs[1]["user_prompt"]) // 10
