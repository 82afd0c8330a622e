"""Real lm-eval runs for the report/compare/leaderboard tests: scripted judges over the bundled sample.

A judge here knows the truth only through the sample's texts: it finds the presented responses in
the prompt (``scripted_judge.extract_slots``), looks the row up by its set of responses, and answers
right or wrong by a deterministic per-row draw whose success rate falls with the context length, so
the runs have the paper's shape (accuracy dropping as context grows) without any model.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longrm_tasks.data import load_sample
from longrm_tasks.items import judge_items
from longrm_tasks.prompts import PROMPT_SET_ID
from longrm_tasks.results.records import Run, record_from_response
from support.scripted_judge import ScriptedJudge, extract_slots
from support.subprocesses import lm_eval_command, offline_env

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "longrm_tasks" / "data" / "sample"
TASK_FILES = ("LongQA", "Summ", "Safety", "ICL", "Cite", "Code", "Math")
LETTERS = "ABCD"

#: Chance of a right verdict per length bucket (best-of-N rows use their own bucket too).
STRONG = {"4k": 0.95, "8k": 0.9, "16k": 0.85, "32k": 0.75, "64k": 0.65, "128k": 0.55}
WEAK = {"4k": 0.8, "8k": 0.65, "16k": 0.55, "32k": 0.45, "64k": 0.35, "128k": 0.3}


@dataclass(frozen=True)
class TruthRow:
    """A sample row as the judge sees it: its responses by gold rank and its length bucket."""

    task_file: str
    tasktype: str
    bucket: str
    answers: tuple[str, ...]


def truth_table() -> dict[frozenset[str], TruthRow]:
    """Every sample row, keyed by its set of responses (distinct per row in the sample)."""
    table = {}
    for task_file in TASK_FILES:
        for line in (SAMPLE_DIR / f"{task_file}.jsonl").read_text("utf-8").splitlines():
            row = json.loads(line)
            bon = row["tasktype"] == "BestOfN"
            answers = tuple(row["candidates"]) if bon else (row["chosen"], row["rejected"])
            table[frozenset(answers)] = TruthRow(
                task_file, row["tasktype"], row["ctx_length_for_length"], answers
            )
    return table


def draw(key: str, salt: str) -> float:
    """Deterministic uniform draw in [0, 1) for one row."""
    digest = hashlib.sha256(f"{salt}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def length_judge(
    accuracy: Mapping[str, float], *, salt: str = "judge", unparsed: float = 0.05
) -> Callable[[list[str], list[dict[str, Any]]], str]:
    """A policy for :class:`ScriptedJudge`: right with ``accuracy[bucket]``, silent with ``unparsed``."""
    table = truth_table()

    def policy(slots: list[str], messages: list[dict[str, Any]]) -> str:
        row = table[frozenset(slots)]
        ranks = [row.answers.index(text) for text in slots]  # gold rank of each slot
        key = "\x1f".join(row.answers)
        if draw(key, salt + "/parse") < unparsed:
            return "Both answers look reasonable; I cannot decide."
        right = draw(key, salt) < accuracy[row.bucket]
        best_first = [LETTERS[ranks.index(rank)] for rank in range(len(slots))]
        if row.tasktype == "PairWise":
            verdict = best_first[0] if right else best_first[1]
            return f"Assistant {verdict} states the fact in the context correctly.\n[[{verdict}]]"
        ranking = best_first if right else best_first[1:] + best_first[:1]
        return "[Analysis]\nChecked each answer.\n[Ranking]\n[[" + ">".join(ranking) + "]]"

    return policy


def run_lm_eval(
    output_path: Path,
    policy: Callable[[list[str], list[dict[str, Any]]], str] | ScriptedJudge,
    *,
    model: str = "scripted-judge",
    task: str = "longrewardbench_sample",
    timeout: int = 600,
    extra_model_args: str = "",
    extra_args: Sequence[str] = (),
) -> Path:
    """Run the real ``lm_eval`` CLI against a scripted judge; return the folder of its outputs. Pass a
    :class:`ScriptedJudge` as ``policy`` to read its requests afterwards; ``extra_model_args`` are
    appended to ``--model_args`` (e.g. ``tokenizer=DIR``), ``extra_args`` to the command line."""
    env = offline_env()
    output_path.mkdir(parents=True, exist_ok=True)
    judge = policy if isinstance(policy, ScriptedJudge) else ScriptedJudge(policy, model_name=model)
    with judge as base_url:
        model_args = (
            f"model={model},base_url={base_url}/chat/completions,num_concurrent=1,max_retries=1,"
            "tokenized_requests=False" + (f",{extra_model_args}" if extra_model_args else "")
        )
        command = [
            *lm_eval_command(),
            "--model", "local-chat-completions",
            "--model_args", model_args,
            "--tasks", task,
            "--apply_chat_template",
            "--output_path", str(output_path),
            "--log_samples",
            *extra_args,
        ]  # fmt: skip
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or judge.errors:
        raise RuntimeError(
            f"lm_eval failed ({proc.returncode}, {judge.errors}):\n{proc.stdout + proc.stderr}"
        )
    results = sorted((output_path / model.replace("/", "__")).glob("results_*.json"))
    if len(results) != 1:
        raise RuntimeError(f"expected one results file under {output_path}, found {results}")
    return results[0].parent


def sample_run(policy: Callable[[list[str], list[dict[str, Any]]], str], name: str = "in-process") -> Run:
    """The bundled sample judged in-process by ``policy`` (no harness): a quick, realistic :class:`Run`."""
    data = load_sample()
    records = []
    for item in judge_items(data):
        response = policy(extract_slots(item.user_prompt), item.messages())
        records.append(record_from_response(item.to_doc(), response))
    return Run(
        name=name,
        samples=records,
        source="in-process",
        harness="in-process",
        task="longrewardbench_sample",
        provenance={
            "harness": "in-process",
            "prompt_set": PROMPT_SET_ID,
            "order_seed": 42,
            "data_source": "bundled-sample",
            "data_files_sha256": dict(data.sha256),
        },
    )
