"""``longrm plan``: token counts against the tokenizer itself, cost arithmetic, the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from support.tiny_models import build_tokenizer

from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items, reward_items
from longrm_tasks.plan import (
    PARITY_KEPT,
    RowCounts,
    build_plan,
    measure_rows,
    parse_count,
    plan_main,
    rm_costs,
)
from longrm_tasks.rendering import Renderer
from longrm_tasks.truncation.context import ContextTruncator

BUDGET = 1600
AUDIT = "audit (cut at the parity threshold)"


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return build_tokenizer()


@pytest.fixture(scope="module")
def counts(tokenizer: Any) -> list[RowCounts]:
    return measure_rows(load_sample(), ContextTruncator(Renderer(tokenizer), BUDGET), progress=False)


def _tokens(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def _judge_tokens(tokenizer: Any) -> list[int]:
    return [
        _tokens(
            tokenizer,
            tokenizer.apply_chat_template(item.messages(), tokenize=False, add_generation_prompt=True),
        )
        for item in judge_items(load_sample())
    ]


def test_counts_match_the_tokenizer(tokenizer: Any, counts: list[RowCounts]) -> None:
    exact = _judge_tokens(tokenizer)
    assert len(counts) == len(exact)
    for row, tokens in zip(counts, exact, strict=True):
        assert abs(row.judge_prefix + row.judge_suffixes[0] + row.context - tokens) <= 4
    for row, item in zip(counts, reward_items(load_sample()), strict=True):
        sequences = [
            _tokens(
                tokenizer,
                tokenizer.apply_chat_template(
                    [*item.prompt_template, {"role": "assistant", "content": slot}],
                    tokenize=False,
                    add_generation_prompt=False,
                ),
            )
            for slot in item.slots
        ]
        planned = sorted(
            row.rm_template + row.rm_contents + tokens + row.rm_after for tokens in row.responses
        )
        assert all(abs(a - b) <= 6 for a, b in zip(planned, sorted(sequences), strict=True)), item.uid


def test_plan_figures(tokenizer: Any, counts: list[RowCounts]) -> None:
    exact = _judge_tokens(tokenizer)
    plan = build_plan(counts, budget=BUDGET, params=8e9, throughput=5000)
    assert plan["rows"] == len(counts) == sum(entry["rows"] for entry in plan["by_bucket"].values())
    clear = [tokens for tokens in exact if abs(tokens - BUDGET) > 4]
    cut = sum(entry["context_cut"] for entry in plan["by_bucket"].values())
    near = len(exact) - len(clear)
    assert sum(tokens > BUDGET for tokens in clear) <= cut <= sum(tokens > BUDGET for tokens in clear) + near
    assert 0 < cut < len(counts)
    assert sum(entry["parity_cut"] for entry in plan["by_task_file"].values()) == 0
    paths = plan["paths"]
    uncut = paths["judge (uncut)"]["prefill_tokens"]
    assert abs(uncut - sum(exact)) <= 4 * len(exact)
    assert paths[f"judge (context-only, budget {BUDGET})"]["prefill_tokens"] < uncut
    assert paths["judge (parity truncation)"]["prefill_tokens"] == uncut
    assert (
        paths[f"{AUDIT}, prefix cache"]["prefill_tokens"]
        < paths[f"{AUDIT}, no prefix cache"]["prefill_tokens"]
    )
    assert (
        paths["scalar RM, prefix-shared"]["prefill_tokens"]
        < paths["scalar RM, each sequence alone"]["prefill_tokens"]
    )
    assert paths["no-context ablation"]["prefill_tokens"] < uncut
    for entry in paths.values():
        assert entry["flops"] == 2 * 8e9 * entry["prefill_tokens"]
        assert entry["gpu_hours"] == pytest.approx(entry["prefill_tokens"] / 5000 / 3600)
    assert plan["requests"]["audit"] == sum(len(row.judge_suffixes) for row in counts)
    assert plan["decode_tokens_at_most"]["judge"] == 2048 * len(counts)


def test_parity_cut_arithmetic() -> None:
    long_row = RowCounts(
        "LongQA", "PairWise", "128k", 140_000, 300, [900, 900], 20, 10, 139_990, 5, [400, 600]
    )
    plan = build_plan([long_row], budget=30_000)
    assert plan["by_bucket"]["128k"]["parity_cut"] == 1 and plan["by_bucket"]["128k"]["context_cut"] == 1
    assert plan["paths"]["judge (parity truncation)"]["prefill_tokens"] == PARITY_KEPT
    assert plan["paths"]["judge (context-only, budget 30000)"]["prefill_tokens"] == 30_000
    plain, shared = rm_costs(long_row)
    assert plain == 2 * PARITY_KEPT  # both sequences cut to head + tail
    assert shared == 65_536 + 2 * (
        PARITY_KEPT - 65_536
    )  # responses differ in length: only the head is shared


def test_parse_count() -> None:
    assert parse_count("8B") == 8e9 and parse_count("135M") == 135e6 and parse_count("7e9") == 7e9
    assert parse_count("1.5k") == 1500
    with pytest.raises(argparse.ArgumentTypeError):
        parse_count("eight")


def test_command_line_and_cache(tokenizer: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tokenizer.save_pretrained(tmp_path / "tok")
    args = [
        "--tokenizer", str(tmp_path / "tok"), "--sample", "--max-length", str(BUDGET + 2048),
        "--params", "8B", "--throughput", "5000", "--cache-dir", str(tmp_path / "cache"), "--no-progress",
    ]  # fmt: skip
    assert plan_main([*args, "--json", str(tmp_path / "plan.json")]) == 0
    out = capsys.readouterr().out
    assert "## By length bucket" in out and "## Prefill cost per path" in out and "GPU time" in out
    plan = json.loads((tmp_path / "plan.json").read_text("utf-8"))
    assert plan["budget"] == BUDGET and plan["token_counts_cache"] == "miss"
    assert plan_main([*args, "--json", str(tmp_path / "again.json")]) == 0
    again = json.loads((tmp_path / "again.json").read_text("utf-8"))
    assert again["token_counts_cache"] == "hit"
    assert again["paths"] == plan["paths"]
    assert plan_main(["--tokenizer", str(tmp_path / "tok"), "--sample", "--formats", "Pairwise"]) == 2
