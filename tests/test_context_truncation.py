"""Context-only truncation: nothing but the middle of the long context is ever cut.

The key test builds 128k-token rows (the synthetic generator at 120,000 context tokens) and cuts
them to a budget of 8,192 tokens with a locally built fast tokenizer. Everything it compares
against is derived here: the uncut prompts from the raw rows (spec §3 written out), token counts
from the tokenizer itself on the chat-templated text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

transformers = pytest.importorskip("transformers")

from support.lm_eval_task import ChatLM  # noqa: E402
from support.tiny_models import build_tokenizer  # noqa: E402

from longrm_tasks.constants import TASK_FILES  # noqa: E402
from longrm_tasks.data import BenchmarkData, load_sample  # noqa: E402
from longrm_tasks.items import judge_items  # noqa: E402
from longrm_tasks.options import OptionError, RunOptions, truncation_mode  # noqa: E402
from longrm_tasks.prep_cache import cache_dir, cached  # noqa: E402
from longrm_tasks.prompts import system_prompt, user_prompt_frame  # noqa: E402
from longrm_tasks.rendering import Renderer  # noqa: E402
from longrm_tasks.run import settle_judge_docs  # noqa: E402
from longrm_tasks.synthetic import generate_rows  # noqa: E402
from longrm_tasks.truncation.budgets import BudgetError, prompt_budget  # noqa: E402
from longrm_tasks.truncation.context import (  # noqa: E402
    ContextTruncationError,
    ContextTruncator,
    CutJob,
    _JoinCounter,
    _Text,
    byte_length_table,
    protected_spans,
    truncation_summary,
)

BUDGET = 8192
LONG = {"128k": 120_000}


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return build_tokenizer()


@pytest.fixture(scope="module")
def long_data() -> BenchmarkData:
    rows = {task: generate_rows(task, scale="sample", context_tokens=LONG) for task in TASK_FILES}
    return BenchmarkData(rows=rows, source="synthetic-128k")


def context_docs(tokenizer: Any, data: BenchmarkData, budget: int) -> list[dict[str, Any]]:
    """Judge documents of ``data`` settled in context mode for a ChatML judge."""
    docs = [item.to_doc() for item in judge_items(data)]
    options = RunOptions(truncation="context", context_budget=budget, cache_dir="off")
    return settle_judge_docs(docs, Renderer(tokenizer), options)[0]


def frame(truncator: ContextTruncator, slots: list[str]) -> Any:
    """The frame of a pairwise judge prompt with these responses, around its context."""
    return truncator.frame(system_prompt("PairWise", 2), *user_prompt_frame(slots))


@pytest.fixture(scope="module")
def cut_docs(tokenizer: Any, long_data: BenchmarkData) -> list[dict[str, Any]]:
    return context_docs(tokenizer, long_data, BUDGET)


def _tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _rendered(tokenizer: Any, doc: dict[str, Any]) -> str:
    messages = [
        {"role": "system", "content": doc["system_prompt"]},
        {"role": "user", "content": doc["user_prompt"]},
    ]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _raw_row(data: BenchmarkData, doc: dict[str, Any]) -> dict[str, Any]:
    return data.rows[doc["task_file"]][doc["row_index"]]


def _blocks(slots: list[str]) -> str:
    """Spec §3: the response blocks of the user message, written out."""
    return "\n\n".join(
        f"[The Start of Assistant {'ABCD'[p]}'s Answer]\n{slot}\n[The End of Assistant {'ABCD'[p]}'s Answer]"
        for p, slot in enumerate(slots)
    )


def _presented(row: dict[str, Any], order: list[int]) -> list[str]:
    answers = row["candidates"] if row["tasktype"] == "BestOfN" else [row["chosen"], row["rejected"]]
    return [answers[rank] for rank in order]


def test_no_instruction_or_response_text_is_lost_on_128k_rows(
    tokenizer: Any, long_data: BenchmarkData, cut_docs: list[dict[str, Any]]
) -> None:
    uncut = {item.uid: item for item in judge_items(long_data)}
    long_docs = [doc for doc in cut_docs if doc["length_bucket"] == "128k"]
    assert len(long_docs) >= 8
    for doc in long_docs:
        row = _raw_row(long_data, doc)
        context = "\n\n".join(message["content"] for message in row["prompt_template"])
        assert _tokens(tokenizer, context) > 100_000, "the fixture must really be 128k-token rows"
        # The prompt fits the budget, token-exact with the model's own tokenizer and chat template.
        rendered_tokens = _tokens(tokenizer, _rendered(tokenizer, doc))
        assert rendered_tokens <= BUDGET, (doc["uid"], rendered_tokens)
        assert rendered_tokens >= BUDGET - 64, f"{doc['uid']}: budget badly under-used ({rendered_tokens})"
        assert doc["prompt_tokens"] == rendered_tokens
        # The system prompt is the uncut one, verbatim.
        assert doc["system_prompt"] == uncut[doc["uid"]].system_prompt
        # Every response, in presented order, with its markers, verbatim at the end of the user message.
        blocks = _blocks(_presented(row, doc["order"]))
        user = doc["user_prompt"]
        assert user.startswith("[User Question]\n") and user.endswith("\n\n" + blocks), doc["uid"]
        kept = user[len("[User Question]\n") : len(user) - len(blocks) - 2]
        # The kept context is a head of the original plus a tail of it: only the middle is gone.
        head = next(i for i, (a, b) in enumerate(zip(kept, context, strict=False)) if a != b)
        tail = kept[head:]
        assert context.endswith(tail) and len(tail) > 1000 and head > 1000, doc["uid"]
        # The question (the row's own field, at the end of its context) survives in full.
        assert row["question"] and row["question"] in tail, doc["uid"]
        last_paragraph = context.rsplit("\n\n", 1)[-1]
        assert kept.endswith(last_paragraph)
        # What each sample records.
        # A context cut is not the parity cut: ``truncation`` keeps the parity status.
        assert doc["context_cut"] and doc["truncation"] == "none" and doc["within_budget"]
        assert doc["system_placement"] == "system"
        assert doc["question_kept"] and doc["truncation_mode"] == "context"
        assert doc["context_tokens"] == _tokens(tokenizer, context)
        assert doc["context_tokens_kept"] < doc["context_tokens"]
        assert abs(_tokens(tokenizer, kept) - doc["context_tokens_kept"]) <= 8


def test_short_rows_are_left_exactly_as_parity_shows_them(
    tokenizer: Any, long_data: BenchmarkData, cut_docs: list[dict[str, Any]]
) -> None:
    uncut = {item.uid: item for item in judge_items(long_data)}
    short = [doc for doc in cut_docs if doc["length_bucket"] != "128k"]
    assert short
    for doc in short:
        assert not doc["context_cut"] and doc["truncation"] == "none"
        assert doc["user_prompt"] == uncut[doc["uid"]].user_prompt
        assert doc["context_tokens_kept"] == doc["context_tokens"]
        assert abs(doc["prompt_tokens"] - _tokens(tokenizer, _rendered(tokenizer, doc))) <= 4
    # Same rows, same official order as the parity items.
    assert [doc["uid"] for doc in cut_docs] == list(uncut)
    assert [doc["order"] for doc in cut_docs] == [item.order for item in uncut.values()]
    summary = truncation_summary(cut_docs)
    assert summary["128k"]["cut_rate"] == 1.0
    assert all(summary[bucket]["cut"] == 0 for bucket in summary if bucket != "128k")


def test_token_boundaries_by_bytes_and_by_windows(tokenizer: Any) -> None:
    rng = random.Random(3)
    words = ["Søren", "Zoë", "naïve", "数据", "[[A]]", "{question}", "def f(x):\n    return x", "42", "\n\n"]
    truncator = ContextTruncator(Renderer(tokenizer), 1000)
    table = byte_length_table(truncator.backend)
    assert table is not None  # a byte-level BPE tokenizer
    for text in (" ".join(rng.choice(words) for _ in range(4000)), "plain ascii text, " * 3000):
        ids = list(truncator.encode(text).ids)
        n = len(ids)
        windows = _Text(text, ids, truncator.encode)
        exact = _Text(text, ids, truncator.encode, table)
        assert windows.sizes is None and exact.sizes is not None
        for k in (1, 2, 17, 300, n // 3, n - 5):
            for a, b in (
                (windows.head_end(k), exact.head_end(k)),
                (windows.tail_start(k), exact.tail_start(k)),
            ):
                # At most one character apart: a space (offsets are trimmed) or a split character.
                assert abs(a - b) <= 1, (k, a, b)
            if text.isascii():
                assert exact.head_end(k) == len(tokenizer.decode(ids[:k]))
                assert exact.tail_start(k) == len(text) - len(tokenizer.decode(ids[n - k :]))
        for long_text in (windows, exact):
            for pos in (1, 50, len(text) // 4, len(text) - 30):
                h = long_text.tokens_through(pos)
                assert long_text.head_end(h) >= pos and long_text.head_end(h - 1) < pos
                t = long_text.tokens_from(pos)
                # (equal when token n - t + 1 starts inside character ``pos``: it does not cover it)
                assert long_text.tail_start(t) <= pos <= long_text.tail_start(t - 1)


def test_cut_prompts_are_counted_exactly_from_windows_around_the_joins(tokenizer: Any) -> None:
    """The count of a cut prompt from windows around its joins equals the tokenizer's count of the whole
    prompt, for cuts anywhere, in texts that tempt a join to merge (unicode, digits, special-token text,
    runs of spaces), markers and frames with special tokens."""
    rng = random.Random(11)
    words = ["Søren", "naïve", "数据", "😀", "[[A]]", "<|im_end|>", "x" * 40, "    ", "\n\n", "42", "1.5e3"]
    words += ["the", "harbour", "council", ",", ".", "'s", "\t"]
    truncator = ContextTruncator(Renderer(tokenizer), 100_000)
    table = byte_length_table(truncator.backend)
    prefix, suffix = truncator.renderer.frame(system_prompt("PairWise", 2), *user_prompt_frame(["a", "b"]))
    counted = fell_back = 0
    for round_ in range(60):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "\n"]) for _ in range(rng.randint(300, 1500)))
        ids = list(truncator.encode(text).ids)
        long_text = _Text(text, ids, truncator.encode, table)
        assert long_text.sizes is not None
        n = len(ids)
        head = rng.randint(0, n - 1)
        tail = rng.randint(0, n - 1 - head)
        marker = rng.choice(["", "\n[...]\n", " ", "数"])
        kept = text[: long_text.head_end(head)] + marker + text[long_text.tail_start(tail) :]
        counter = _JoinCounter(long_text, table, truncator._batch, None)
        if counter.text_of(0, head) + marker + counter.text_of(n - tail, n) != kept:
            continue  # a cut inside a character: counted whole by the truncator
        frames = [(prefix, suffix), ("", ""), ("<|im_start|>user\n", "<|im_end|>")][round_ % 3]
        parts = [frames[0], (0, head), marker, (n - tail, n), frames[1]]
        expected = _tokens(tokenizer, frames[0] + kept + frames[1])
        windowed = counter.count(parts)
        if windowed is None:
            fell_back += 1
        else:
            counted += 1
            assert windowed == expected, (round_, head, tail, marker)
    assert counted >= 40 and fell_back <= 10, (counted, fell_back)


def test_question_first_layout_protects_the_head(tokenizer: Any) -> None:
    question = "Which harbour did the committee choose, and in which year?"
    body = " ".join(f"Filler sentence number {i} about the harbour town." for i in range(3000))
    context = f"{question}\n\n{body}"
    assert protected_spans(context, question) == (len(question), None, True)
    truncator = ContextTruncator(Renderer(tokenizer), 900)
    cut = truncator.cut(CutJob(context, [frame(truncator, ["Answer one.", "Answer two."])], question))
    assert cut.cut and cut.within_budget and cut.question_kept
    assert cut.context.startswith(question)
    assert max(cut.prompt_tokens) <= 900


def test_marker_and_over_budget_rows(tokenizer: Any) -> None:
    context = (
        " ".join(f"Sentence {i} of the report." for i in range(4000)) + "\n\nQuestion: what was decided?"
    )
    marked = ContextTruncator(Renderer(tokenizer), 1200, marker="\n[...]\n")
    framed = frame(marked, ["A short answer.", "Another short answer."])
    cut = marked.cut(CutJob(context, [framed], "what was decided?"))
    assert cut.context.count("[...]") == 1 and cut.within_budget and max(cut.prompt_tokens) <= 1200
    # Responses alone longer than the budget: the context shrinks to the question, nothing else goes.
    long_answer = "word " * 3000
    tight = ContextTruncator(Renderer(tokenizer), 1200)
    cut = tight.cut(CutJob(context, [frame(tight, [long_answer, "short"])], "what was decided?"))
    assert cut.cut and not cut.within_budget and cut.question_kept
    assert cut.context.endswith("Question: what was decided?")


def test_budget_and_mode_options(tokenizer: Any) -> None:
    def budget(options: dict[str, Any], context_length: int | None = None, tok: Any = None) -> int:
        return prompt_budget(RunOptions.from_mapping(options), context_length, tok)

    assert budget({"max_length": 8192}) == 6144
    assert budget({"max_model_len": 32768}) == 30720
    assert budget({"max_length": "8192", "max_gen_toks": 1000}) == 7192
    assert budget({"max_length": 8192, "context_budget": 5000}) == 5000
    assert budget({}, context_length=4096) == 2048  # the backend's own context length
    assert budget({"max_length": 8192}, context_length=4096) == 6144  # the option wins
    tokenizer.model_max_length = 4096
    try:
        assert budget({"max_gen_toks": 1024}, tok=tokenizer) == 3072
    finally:
        tokenizer.model_max_length = int(1e30)
    with pytest.raises(BudgetError, match="max_length"):
        budget({}, tok=tokenizer)
    with pytest.raises(BudgetError, match="no room"):
        budget({"max_length": 1000})
    with pytest.raises(OptionError, match="max_length"):
        budget({"max_length": "8k"})
    assert truncation_mode({}) == "parity"
    assert truncation_mode({"truncation": True}) == "parity"  # lm-eval's own hf flag
    assert truncation_mode({"truncation": "Context"}) == "context"
    with pytest.raises(OptionError, match="one of"):
        truncation_mode({"truncation": "middle"})


def test_slow_tokenizer_is_refused() -> None:
    with pytest.raises(ContextTruncationError, match="fast"):
        ContextTruncator(Renderer(object()), 1000)


def test_cache_round_trip_and_off_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def build() -> list[dict[str, Any]]:
        calls.append(1)
        return [{"uid": "x", "value": 1}]

    folder = tmp_path / "cache"
    assert cached(folder, "judge", {"budget": 1}, build) == ([{"uid": "x", "value": 1}], False)
    assert cached(folder, "judge", {"budget": 1}, build) == ([{"uid": "x", "value": 1}], True)
    assert cached(folder, "judge", {"budget": 2}, build)[1] is False
    assert len(calls) == 2
    entries = sorted(folder.glob("judge-*.json"))
    assert len(entries) == 2
    assert all(json.loads(e.read_text("utf-8").split("\n", 1)[0])["key"] for e in entries)
    monkeypatch.setenv("LONGRM_CACHE_DIR", "off")
    assert cache_dir() is None
    assert cache_dir({"cache_dir": str(folder)}) == folder
    monkeypatch.delenv("LONGRM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "longrm_tasks"


def test_lm_eval_task_selects_context_mode_and_records_it(
    tokenizer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lm_eval.tasks import TaskManager

    from longrm_tasks import task_yaml_dir

    monkeypatch.setenv("LONGRM_CACHE_DIR", str(tmp_path / "cache"))
    tokenizer.save_pretrained(tmp_path / "tok")
    budget = 1600  # the tiny tokenizer's sample prompts run 1,200-2,100 tokens
    meta = {"truncation": "context", "context_budget": budget, "tokenizer": str(tmp_path / "tok")}

    def settled(metadata: dict[str, Any]) -> Any:
        manager = TaskManager(include_path=str(task_yaml_dir()), include_defaults=False, metadata=metadata)
        task = manager.load(["longrewardbench_sample"])["tasks"]["longrewardbench_sample"]
        lm = ChatLM(tokenizer)
        task.build_all_requests(apply_chat_template=True, chat_template=lm.apply_chat_template)
        return task

    task = settled(meta)
    docs = list(task.test_docs())
    provenance = task.config.metadata["longrm"]
    assert provenance["truncation_mode"] == "context"
    record = provenance["context_truncation"]
    assert record["budget"] == budget and record["cache"] == "miss"
    assert sum(entry["rows"] for entry in record["by_bucket"].values()) == len(docs)
    assert any(doc["context_cut"] for doc in docs) and not all(doc["context_cut"] for doc in docs)
    for doc in docs:
        assert doc["within_budget"] and _tokens(tokenizer, _rendered(tokenizer, doc)) <= budget
        assert doc["truncation"] == "none"  # parity status; the cut is counted as context_cut
    # Context mode adds exactly one metric, its own: context_cut.
    parity = settled({})
    assert list(task._metric_fn_list) == [*parity._metric_fn_list, "context_cut"]
    assert not any(doc["context_cut"] for doc in parity.test_docs())
    assert [doc["uid"] for doc in parity.test_docs()] == [doc["uid"] for doc in docs]
    # The requests carry exactly the settled prompts.
    assert [instance.arguments[0] for instance in task.instances] == [_rendered(tokenizer, d) for d in docs]
    # A second preparation is read back from the cache, identical.
    again = settled(meta)
    assert again.config.metadata["longrm"]["context_truncation"]["cache"] == "hit"
    assert list(again.test_docs()) == docs


def test_sample_without_long_rows_is_never_cut(tokenizer: Any) -> None:
    docs = context_docs(tokenizer, load_sample(), 20_000)
    assert docs and not any(doc["context_cut"] for doc in docs)
