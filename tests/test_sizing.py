"""Sizing on N GPUs (``longrm plan --gpus``): every figure computed by hand from the formulas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from longrm_tasks.sizing import (
    GIB,
    MODEL_SHAPES,
    ModelShape,
    SizingError,
    kv_bytes_per_token,
    resolve_shape,
    size_run,
)

LLAMA_8B, LLAMA_70B = MODEL_SHAPES["llama-3.1-8b"], MODEL_SHAPES["llama-3.1-70b"]
#: Longest parity prompt (131,067 tokens after the §6 cut) + 2,048 new tokens.
LONGEST = 131_067 + 2_048


def test_kv_cache_per_token_by_hand():
    # 2 (K, V) x 32 layers x 8 heads x 128 x 2 bytes
    assert kv_bytes_per_token(LLAMA_8B, 2) == 131_072
    assert kv_bytes_per_token(LLAMA_8B, 2, tensor_parallel=2) == 65_536
    # More GPUs than KV heads: each GPU still holds one (replicated) head.
    assert kv_bytes_per_token(LLAMA_8B, 2, tensor_parallel=16) == 2 * 32 * 1 * 128 * 2
    assert kv_bytes_per_token(LLAMA_70B, 1, tensor_parallel=4) == 2 * 80 * 2 * 128 * 1


def test_8b_on_one_80_gib_gpu():
    plan = size_run(LLAMA_8B, gpus=1, longest_sequence=LONGEST, gpu_hours={"judge": 3.0}, gpu_memory_gib=80)
    weights = 8.03e9 * 2 / GIB  # 14.957 GiB
    kv = 131_072 * LONGEST / GIB  # 16.249 GiB
    assert plan.tensor_parallel == 1 and plan.data_parallel == 1
    assert plan.weights_gib == pytest.approx(weights) and weights == pytest.approx(14.957, abs=1e-3)
    assert plan.kv_cache_gib == pytest.approx(kv) and kv == pytest.approx(16.249, abs=1e-3)
    assert plan.total_gib == pytest.approx(31.206, abs=1e-3)
    assert plan.fits is True
    assert plan.concurrent_sequences == 3  # floor((72 - 14.957) / 16.249) = floor(3.51)
    assert plan.wall_hours == {"judge": 3.0}


def test_70b_on_eight_80_gib_gpus_picks_the_smallest_tensor_parallel_that_fits():
    plan = size_run(LLAMA_70B, gpus=8, longest_sequence=LONGEST, gpu_hours={"judge": 16.0}, gpu_memory_gib=80)
    # tp 1: 131.5 GiB of weights; tp 2: 65.75 + 20.31 = 86.06 > 72; tp 4: 32.88 + 10.16 = 43.03 <= 72.
    assert (plan.tensor_parallel, plan.data_parallel) == (4, 2)
    assert plan.weights_gib == pytest.approx(32.876, abs=1e-3)
    assert plan.kv_cache_gib == pytest.approx(10.156, abs=1e-3)
    assert plan.concurrent_sequences == 3  # floor((72 - 32.876) / 10.156) = floor(3.85)
    assert plan.wall_hours == {"judge": 2.0}  # 16 GPU-hours over 8 GPUs
    forced = size_run(
        LLAMA_70B, gpus=8, longest_sequence=LONGEST, gpu_hours={}, gpu_memory_gib=80, tensor_parallel=2
    )
    assert forced.fits is False and forced.total_gib == pytest.approx(86.06, abs=1e-2)


def test_fp8_kv_cache_and_unknown_memory():
    plan = size_run(
        LLAMA_8B,
        gpus=2,
        longest_sequence=1000,
        gpu_hours={"x": None},
        weight_dtype="bfloat16",
        kv_dtype="fp8",
    )
    assert plan.tensor_parallel == 1 and plan.data_parallel == 2  # no memory given: no split needed
    assert plan.kv_cache_gib == pytest.approx(65_536 * 1000 / GIB)
    assert plan.fits is None and plan.concurrent_sequences is None and plan.wall_hours == {"x": None}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gpus": 8, "tensor_parallel": 3}, "must divide"),
        ({"gpus": 0}, "at least 1"),
        ({"gpus": 1, "gpu_memory_gib": 24}, "do not fit 1 GPUs of 21.6 GiB"),
        ({"gpus": 1, "weight_dtype": "float8"}, "unknown dtype 'float8'"),
        ({"gpus": 1, "gpu_memory_utilization": 1.5}, r"\(0, 1\]"),
    ],
)
def test_bad_inputs_are_one_line_errors(kwargs: dict[str, Any], message: str):
    with pytest.raises(SizingError, match=message):
        size_run(LLAMA_70B, longest_sequence=LONGEST, gpu_hours={}, **kwargs)


def test_shapes_from_presets_and_flags():
    assert resolve_shape("Llama-3.1-8B") == LLAMA_8B
    assert resolve_shape("qwen3-8b", layers=40).layers == 40
    assert resolve_shape(None, params=1e9, layers=2, kv_heads=1, head_dim=64) == ModelShape(1e9, 2, 1, 64)
    with pytest.raises(SizingError, match="give --model-shape or --layers, --head-dim"):
        resolve_shape(None, params=1e9, kv_heads=1)
    with pytest.raises(SizingError, match="unknown --model-shape 'gpt-9'"):
        resolve_shape("gpt-9")


def test_plan_command_line_prints_the_sizing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("transformers")
    from support.tiny_models import build_tokenizer

    from longrm_tasks.data import load_sample
    from longrm_tasks.items import judge_items
    from longrm_tasks.plan import plan_main

    tokenizer = build_tokenizer()
    tokenizer.save_pretrained(tmp_path / "tok")
    longest_prompt = max(
        len(tokenizer(text, add_special_tokens=False)["input_ids"])
        for text in (
            tokenizer.apply_chat_template(item.messages(), tokenize=False, add_generation_prompt=True)
            for item in judge_items(load_sample())
        )
    )
    args = [
        "--tokenizer", str(tmp_path / "tok"), "--sample", "--cache-dir", "off", "--no-progress",
        "--gpus", "4", "--gpu-memory", "80", "--model-shape", "llama-3.1-70b", "--throughput", "2k",
        "--max-gen-toks", "100", "--json", str(tmp_path / "plan.json"),
    ]  # fmt: skip
    assert plan_main(args) == 0
    out = capsys.readouterr().out
    assert "## Sizing on 4 GPUs of 80 GiB" in out
    plan = json.loads((tmp_path / "plan.json").read_text("utf-8"))
    parity = plan["sizing"][0]
    assert parity["path"] == "judge (parity truncation)"
    # Prompt sizes are sums of separately tokenized parts: exact to a few tokens per sample.
    assert parity["longest_prompt"] == pytest.approx(longest_prompt, abs=8)
    assert parity["longest_sequence"] == parity["longest_prompt"] + 100
    assert (parity["tensor_parallel"], parity["data_parallel"]) == (2, 2)  # 131.5 GiB of weights need 2
    hours = plan["paths"]["judge (parity truncation)"]["prefill_tokens"] / 2000 / 3600
    assert parity["wall_hours"]["judge (parity truncation)"] == pytest.approx(hours / 4)
    assert plan["params"] == 70.6e9  # the preset also gives FLOPs their parameter count
    assert f"| judge (parity truncation) | {parity['longest_sequence']:,} | 2 × 2 | 65.8 |" in out
    assert (
        plan_main(["--tokenizer", str(tmp_path / "tok"), "--sample", "--cache-dir", "off", "--gpus", "2"])
        == 1
    )
    assert capsys.readouterr().err.strip().startswith("longrm plan: --gpus needs the model's shape")
