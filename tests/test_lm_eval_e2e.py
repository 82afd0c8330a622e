"""End to end through the real ``lm_eval`` CLI against a scripted OpenAI-compatible judge.

Everything the assertions compare against is derived here, independently of the package: the
truth table and the official presentation order (spec §2) come from the raw sample JSONL files,
the judge prompts are written out from spec §3, and parsing/scoring/aggregation follow spec §4/§7.
The judge answers from the prompt it receives (it only knows the truth through the table), so a
wrong presentation order, prompt, parser or aggregate in the package shows up as a mismatch.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.scripted_judge import ScriptedJudge, extract_slots
from support.spec_reference import (
    BON_POLICIES,
    BUCKETS,
    PAIRWISE_POLICIES,
    TASK_FILES,
    Row,
    expected_system,
    expected_user,
    load_rows,
    make_reply,
    mean,
    parse,
    score,
)
from support.subprocesses import lm_eval_command, offline_env

pytestmark = pytest.mark.slow

MODEL = "scripted-judge"
RUN_TIMEOUT_S = 300

# --------------------------------------------------------------------------------------------
# Spec §3 prompts, written out here (not imported from the package)
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Truth table and official presentation order (spec §1, §2)
# --------------------------------------------------------------------------------------------


ROWS = load_rows()
BY_TEXTS = {frozenset(row.answers): row for row in ROWS}
assert len(BY_TEXTS) == len(ROWS), "the truth table needs a distinct response set per row"
N_PAIRWISE = sum(row.tasktype == "PairWise" for row in ROWS)
N_BON = len(ROWS) - N_PAIRWISE


def row_of_slots(slots: Sequence[str]) -> Row:
    return BY_TEXTS[frozenset(slots)]


# --------------------------------------------------------------------------------------------
# Judge policies: a reply from the gold rank of each presented slot
# --------------------------------------------------------------------------------------------


def policy_for(row: Row, offset: int | None = None) -> str:
    """A fixed policy per row: round robin over the rows of its format, in official run order."""
    choices = PAIRWISE_POLICIES if row.tasktype == "PairWise" else BON_POLICIES
    same_format = [other.key for other in ROWS if other.tasktype == row.tasktype]
    return choices[
        (same_format.index(row.key) + (POLICY_OFFSET if offset is None else offset)) % len(choices)
    ]


def judge_policy(slots: list[str], messages: list[dict[str, Any]]) -> str:
    """The scripted judge: looks the presented responses up in the truth table."""
    row = row_of_slots(slots)
    return make_reply(policy_for(row), row.tasktype, [row.answers.index(text) for text in slots])


# --------------------------------------------------------------------------------------------
# Spec §4 parsing, §7 scoring and aggregation (independent implementation)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    row: Row
    reply: str
    pred: tuple[int, ...]
    score: float


def expect(row: Row, offset: int | None = None) -> Expected:
    reply = make_reply(policy_for(row, offset), row.tasktype, list(row.order))
    pred = parse(reply, row.tasktype)
    return Expected(row, reply, tuple(pred), score(row.order, pred))


def expect_all(offset: int | None = None) -> dict[tuple[str, int], Expected]:
    return {row.key: expect(row, offset) for row in ROWS}


def expected_metrics(
    rows: Sequence[Row], expected: dict[tuple[str, int], Expected] | None = None
) -> dict[str, float]:
    """Every spec §7 aggregate over ``rows`` (metrics whose group is empty are left out)."""
    expected = EXPECTED if expected is None else expected
    exp = [expected[row.key] for row in sorted(rows, key=lambda r: r.rank)]
    pw = [e for e in exp if e.row.tasktype == "PairWise"]
    bon = [e for e in exp if e.row.tasktype == "BestOfN"]
    groups: dict[str, list[Expected]] = {"avg": exp, "pairwise_avg": pw, "bon_avg": bon}
    for task_file in TASK_FILES:
        groups[f"task_{task_file.lower()}"] = [e for e in pw if e.row.task_file == task_file]
    groups["same"] = [e for e in pw if e.row.subtype == "same"]
    groups["diff"] = [e for e in pw if e.row.subtype != "same"]
    for n in (2, 3, 4):
        groups[f"rank{n}"] = [e for e in bon if e.row.subtype == str(n)]
    for bucket in BUCKETS:
        groups[f"len_{bucket}"] = [e for e in pw if e.row.bucket == bucket]
    metrics = {key: mean(e.score for e in group) for key, group in groups.items() if group}
    if all(f"len_{bucket}" in metrics for bucket in BUCKETS):
        metrics["len_avg"] = sum(metrics[f"len_{bucket}"] for bucket in BUCKETS) / len(BUCKETS)
    metrics["parse_fail"] = mean(0.0 if e.pred else 1.0 for e in exp)
    return metrics


FULL_KEYS = [
    *("avg", "pairwise_avg", "bon_avg"),
    *(f"task_{task_file.lower()}" for task_file in TASK_FILES),
    *("same", "diff", "rank2", "rank3", "rank4"),
    *(f"len_{bucket}" for bucket in BUCKETS),
    *("len_avg", "parse_fail"),
]
BON_ONLY_KEYS = {"bon_avg", "rank2", "rank3", "rank4"}
PAIRWISE_ONLY_KEYS = {k for k in FULL_KEYS if k.startswith(("task_", "len_"))} | {
    "same",
    "diff",
    "pairwise_avg",
}


def design_problems(offset: int) -> list[str]:
    """Why a policy assignment would make a weak test (empty list: it is good)."""
    expected = expect_all(offset)
    metrics = expected_metrics(ROWS, expected)
    problems = [f"metric {key} has no rows" for key in FULL_KEYS if key not in metrics]
    problems += [f"{key} = {value} is trivial" for key, value in metrics.items() if not 0.0 < value < 1.0]
    for tasktype, policies in (("PairWise", PAIRWISE_POLICIES), ("BestOfN", BON_POLICIES)):
        unused = set(policies) - {policy_for(row, offset) for row in ROWS if row.tasktype == tasktype}
        problems += [f"{tasktype} policy {name} unused" for name in sorted(unused)]
    # Partial credit must occur, also for a prediction shorter than N (spec §4: [[A>B]] at N = 3).
    if not any(0 < e.score < 1 and 0 < len(e.pred) < e.row.n for e in expected.values()):
        problems.append("no partial credit from a short ranking")
    if not any(0 < e.score < 1 and len(e.pred) == e.row.n for e in expected.values()):
        problems.append("no partial credit from a full ranking")
    if any(e.reply.count(">") != 10 for e in expected.values() if policy_for(e.row, offset) == "arrows"):
        problems.append("an 'arrows' reply does not hold exactly 10 '>'")
    # Position-sensitive policies must both score and miss on pairwise rows.
    pairwise = [e for e in expected.values() if e.row.tasktype == "PairWise"]
    for policy in ("first", "last"):
        outcomes = {e.score for e in pairwise if policy_for(e.row, offset) == policy}
        if outcomes != {0.0, 1.0}:
            problems.append(f"pairwise policy {policy} scores only {sorted(outcomes)}")
    return problems


def choose_policy_offset() -> int:
    """The first round-robin offset that exercises every metric and policy (0 if none does)."""
    for offset in range(len(PAIRWISE_POLICIES) * len(BON_POLICIES)):
        if not design_problems(offset):
            return offset
    return 0


POLICY_OFFSET = choose_policy_offset()
EXPECTED = expect_all(POLICY_OFFSET)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12


def assert_metrics(reported: dict[str, Any], expected: dict[str, float], label: str) -> None:
    bad = {
        key: (reported.get(f"{key},none"), value)
        for key, value in expected.items()
        if not isinstance(reported.get(f"{key},none"), (int, float))
        or not close(reported[f"{key},none"], value)
    }
    assert not bad, f"{label}: metric mismatches (reported, expected): {bad}"


# --------------------------------------------------------------------------------------------
# Running lm_eval
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    judge: ScriptedJudge
    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]
    seconds: float
    log: str


def run_lm_eval(workdir: Path, tasks: str, *, chat: bool = True, extra: Sequence[str] = ()) -> Run:
    judge = ScriptedJudge(judge_policy, model_name=MODEL)
    env = offline_env()
    workdir.mkdir(parents=True, exist_ok=True)
    with judge as base_url:
        if chat:
            endpoint, model = f"{base_url}/chat/completions", "local-chat-completions"
            model_args = (
                f"model={MODEL},base_url={endpoint},num_concurrent=1,max_retries=1,tokenized_requests=False"
            )
            flags = ["--apply_chat_template"]
        else:
            endpoint, model = f"{base_url}/completions", "local-completions"
            # tokenizer_backend=none: otherwise lm-eval probes the server for a remote tokenizer and
            # then tries to download a Hugging Face tokenizer named like the model (offline: fails).
            model_args = (
                f"model={MODEL},base_url={endpoint},num_concurrent=1,max_retries=1,"
                "tokenized_requests=False,tokenizer_backend=none"
            )
            flags = []
        command = [
            *lm_eval_command(),
            "--model", model,
            "--model_args", model_args,
            "--tasks", tasks,
            *flags,
            "--output_path", "out",
            "--log_samples",
            *extra,
        ]  # fmt: skip
        started = time.monotonic()
        proc = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        seconds = time.monotonic() - started
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"lm_eval failed ({proc.returncode}):\n{log[-6000:]}"
    assert not judge.errors, f"scripted judge errors: {judge.errors}"
    result_files = sorted((workdir / "out").glob("*/results_*.json"))
    assert len(result_files) == 1, result_files
    results = json.loads(result_files[0].read_text("utf-8"))
    samples = {}
    for task in tasks.split(","):
        files = sorted(result_files[0].parent.glob(f"samples_{task}_*.jsonl"))
        assert len(files) == 1, (task, files)
        samples[task] = [
            json.loads(line) for line in files[0].read_text("utf-8").splitlines() if line.strip()
        ]
    print(f"lm_eval --tasks {tasks} {' '.join(extra)} ({model}): {seconds:.1f} s")
    return Run(judge, results, samples, seconds, log)


def request_rows(run: Run) -> list[Row]:
    """The truth-table row of every request the judge received, asserting slot order is official."""
    rows = []
    for request in run.judge.requests:
        row = row_of_slots(request.slots)
        assert tuple(request.slots) == row.presented, (
            f"{row.task_file} row {row.index} (id {row.row_id}): presented order differs from the "
            f"official one {row.order}"
        )
        rows.append(row)
    return rows


def sample_row(sample: dict[str, Any]) -> Row:
    """Row of a logged sample, found from the prompt lm-eval recorded (not from the package's doc)."""
    prompt = sample["arguments"]["gen_args_0"]["arg_0"]
    if isinstance(prompt, list):  # a chat prompt is logged as lm-eval's JsonChatStr, i.e. [json_text]
        (prompt,) = prompt
    try:
        messages = json.loads(prompt)
        text = messages[-1]["content"]
    except ValueError:
        text = prompt
    return row_of_slots(extract_slots(text))


def check_samples(run: Run, task: str) -> list[Row]:
    """Per-sample ``avg`` and the logged response agree with the expectation; returns the rows."""
    rows = []
    for sample in run.samples[task]:
        row = sample_row(sample)
        exp = EXPECTED[row.key]
        assert sample["resps"] == [[exp.reply]], (row.key, sample["resps"])
        assert close(sample["avg"], exp.score), (row.key, sample["avg"], exp.score)
        assert sample["parse_fail"] == (0.0 if exp.pred else 1.0), row.key
        rows.append(row)
    assert len({row.key for row in rows}) == len(rows), f"{task}: a row was logged twice"
    return rows


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return run_lm_eval(tmp_path_factory.mktemp("full"), "longrewardbench_sample")


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_design_gives_every_metric_a_non_trivial_value() -> None:
    """Sanity check of this test's policy mix over the current sample data (no lm_eval run)."""
    assert not design_problems(POLICY_OFFSET), design_problems(POLICY_OFFSET)
    assert set(expected_metrics(ROWS)) == set(FULL_KEYS)


def test_full_sample_run_matches_independent_expectation(full_run: Run) -> None:
    run = full_run
    # One request per row, each showing the official presentation order.
    assert len(run.judge.requests) == len(ROWS)
    rows = request_rows(run)
    assert {row.key for row in rows} == {row.key for row in ROWS}
    for request, row in zip(run.judge.requests, rows, strict=True):
        body = request.body
        assert request.path == "/v1/chat/completions"
        messages = body["messages"]
        assert [m["role"] for m in messages] == ["system", "user"], row.key
        assert messages[0]["content"] == expected_system(row.tasktype, row.n), row.key
        assert messages[1]["content"] == expected_user(row.question, row.presented), row.key
        assert body["max_tokens"] == 2048, body["max_tokens"]
        assert body["temperature"] == 0
        assert body.get("top_p", 1) == 1
        assert not body.get("stop"), f"unexpected stop strings {body.get('stop')!r}"
        assert set(body) <= {"messages", "model", "max_tokens", "temperature", "stop", "seed"}, set(body)
        assert body["model"] == MODEL
    # Aggregates equal the independent computation.
    reported = run.results["results"]["longrewardbench_sample"]
    expected = expected_metrics(ROWS)
    assert set(expected) == set(FULL_KEYS)
    assert_metrics(reported, expected, "longrewardbench_sample")
    # Per-sample log.
    assert len(run.samples["longrewardbench_sample"]) == len(ROWS)
    logged = check_samples(run, "longrewardbench_sample")
    assert {row.key for row in logged} == {row.key for row in ROWS}


@pytest.mark.parametrize(
    ("task", "tasktype"),
    [("longrewardbench_pairwise_sample", "PairWise"), ("longrewardbench_bon_sample", "BestOfN")],
)
def test_single_format_task_keeps_full_run_orders(
    full_run: Run, tmp_path: Path, task: str, tasktype: str
) -> None:
    full_slots = {row_of_slots(r.slots).key: tuple(r.slots) for r in full_run.judge.requests}
    run = run_lm_eval(tmp_path, task)
    assert len(run.judge.requests) == (N_PAIRWISE if tasktype == "PairWise" else N_BON)
    rows = request_rows(run)
    assert {row.key for row in rows} == {row.key for row in ROWS if row.tasktype == tasktype}
    for request, row in zip(run.judge.requests, rows, strict=True):
        assert tuple(request.slots) == full_slots[row.key], row.key
    subset = [row for row in ROWS if row.tasktype == tasktype]
    expected = expected_metrics(subset)
    reported = run.results["results"][task]
    assert_metrics(reported, expected, task)
    other_format_keys = BON_ONLY_KEYS if tasktype == "PairWise" else PAIRWISE_ONLY_KEYS
    assert not {f"{key},none" for key in other_format_keys} & set(reported), sorted(reported)
    assert {row.key for row in check_samples(run, task)} == {row.key for row in subset}


def test_limit_keeps_full_run_orders(full_run: Run, tmp_path: Path) -> None:
    full_slots = {row_of_slots(r.slots).key: tuple(r.slots) for r in full_run.judge.requests}
    tasks = ["longrewardbench_sample", "longrewardbench_pairwise_sample", "longrewardbench_bon_sample"]
    run = run_lm_eval(tmp_path, ",".join(tasks), extra=["--limit", "5"])
    rows = request_rows(run)
    for request, row in zip(run.judge.requests, rows, strict=True):
        assert tuple(request.slots) == full_slots[row.key], row.key
    kept_total = 0
    for task in tasks:
        kept = check_samples(run, task)
        assert len(kept) == 5, (task, [row.key for row in kept])
        kept_total += len(kept)
        if task == "longrewardbench_pairwise_sample":
            assert all(row.tasktype == "PairWise" for row in kept)
        if task == "longrewardbench_bon_sample":
            assert all(row.tasktype == "BestOfN" for row in kept)
        assert_metrics(run.results["results"][task], expected_metrics(kept), f"{task} --limit 5")
    assert len(run.judge.requests) == kept_total


def test_plain_completions_without_chat_template(tmp_path: Path) -> None:
    run = run_lm_eval(tmp_path, "longrewardbench_sample", chat=False)
    assert len(run.judge.requests) == len(ROWS)
    rows = request_rows(run)
    assert {row.key for row in rows} == {row.key for row in ROWS}
    for request, row in zip(run.judge.requests, rows, strict=True):
        body = request.body
        assert request.path == "/v1/completions"
        prompt = body["prompt"]
        assert isinstance(prompt, str), type(prompt)
        system, user = expected_system(row.tasktype, row.n), expected_user(row.question, row.presented)
        assert prompt.startswith(system + "\n\n[User Question]\n"), (row.key, prompt[:200])
        assert user in prompt, row.key
        assert body["max_tokens"] == 2048
        assert body["temperature"] == 0
        assert not body.get("stop"), f"unexpected stop strings {body.get('stop')!r}"
    assert_metrics(
        run.results["results"]["longrewardbench_sample"], expected_metrics(ROWS), "local-completions"
    )
    check_samples(run, "longrewardbench_sample")
