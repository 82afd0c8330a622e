"""Reliability guarantees (resume, determinism, integrity, hostile input, API failures), each a test.

The lm_eval runs use the scripted judge server of ``scripted_judge.py`` on 127.0.0.1 and a fixed
policy; what matters here is run-versus-run equality and how failures surface.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.scripted_judge import ScriptedJudge
from support.subprocesses import offline_env

from longrm_tasks import task_yaml_dir
from longrm_tasks.data import SAMPLE_DIR, load_local, load_sample
from longrm_tasks.integrity import IntegrityError, check_integrity
from longrm_tasks.synthetic import write_dataset

SAMPLE_ROWS = sum(len(path.read_text().splitlines()) for path in SAMPLE_DIR.glob("*.jsonl"))
TASK = "longrewardbench_sample"


def shortest_first(slots: list[str], messages: list[dict[str, Any]]) -> str:
    """A fixed judge: prefers shorter responses (ranks by length, ties by slot)."""
    ranked = sorted(range(len(slots)), key=lambda slot: (len(slots[slot]), slot))
    text = json.dumps(messages)
    if "You should rank" in text:
        return "[Analysis]\nshort is good\n[Ranking]\n[[" + ">".join("ABCD"[s] for s in ranked) + "]]"
    return f"Shorter is better.\n[[{'AB'[ranked[0]]}]]"


def lm_eval_command(base_url: str, out: Path, *extra: str, chat: bool = True) -> list[str]:
    if chat:
        model, endpoint = "local-chat-completions", "chat/completions"
    else:
        model, endpoint = "local-completions", "completions"
    args = (
        f"model=judge,base_url={base_url}/{endpoint},num_concurrent=1,max_retries=2,tokenized_requests=False"
    )
    if not chat:
        args += ",tokenizer_backend=none"
    command = [sys.executable, "-m", "lm_eval", "--model", model, "--model_args", args, "--tasks", TASK]
    if chat:
        command.append("--apply_chat_template")
    return [*command, "--output_path", str(out), "--log_samples", *extra]


def run(command: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = offline_env()
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def results_of(out: Path) -> dict[str, Any] | None:
    files = glob.glob(f"{out}/*/results_*.json")
    return json.loads(Path(files[0]).read_text()) if files else None


def sample_scores(out: Path) -> dict[str, float]:
    (path,) = glob.glob(f"{out}/*/samples_{TASK}_*.jsonl")
    return {
        json.loads(line)["doc"]["uid"]: json.loads(line)["avg"]
        for line in Path(path).read_text().splitlines()
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, Any]:
    """An uninterrupted run: the reference every other run must reproduce."""
    folder = tmp_path_factory.mktemp("baseline")
    with ScriptedJudge(shortest_first) as url:
        result = run(lm_eval_command(url, folder / "out"), folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return {"results": results_of(folder / "out")["results"], "samples": sample_scores(folder / "out")}


# --- 1. Resume -------------------------------------------------------------------------------


@pytest.mark.slow
def test_interrupted_run_resumes_from_use_cache(tmp_path, baseline):
    answered_before_kill = 20
    cache = tmp_path / "cache" / "judge"
    cache.parent.mkdir()
    judge = ScriptedJudge(shortest_first, fault=lambda n: "hang" if n > answered_before_kill else None)
    url = judge.start()
    env = offline_env()
    command = lm_eval_command(url, tmp_path / "first", "--use_cache", str(cache))
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while len(judge.requests) <= answered_before_kill and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # interrupted mid-run, as by a crash or a pre-emption
    process.wait()
    judge.stop()
    assert len(judge.requests) == answered_before_kill + 1  # the 21st was in flight
    assert results_of(tmp_path / "first") is None

    with ScriptedJudge(shortest_first) as resumed_url:
        second = ScriptedJudge  # for the request count below
        resumed = run(lm_eval_command(resumed_url, tmp_path / "second", "--use_cache", str(cache)), tmp_path)
    del second
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Only the unanswered requests were sent again ...
    cached = [line for line in resumed.stderr.splitlines() if "Cached requests" in line]
    assert cached and f"Cached requests: {answered_before_kill}" in cached[-1], cached
    # ... and the results equal an uninterrupted run's.
    assert results_of(tmp_path / "second")["results"] == baseline["results"]
    assert sample_scores(tmp_path / "second") == baseline["samples"]


# --- 2. Determinism ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [1, 4, 16])
def test_batch_sizes_and_reruns_give_identical_metrics(tmp_path, baseline, batch_size):
    with ScriptedJudge(shortest_first) as url:
        result = run(
            lm_eval_command(url, tmp_path / "out", "--batch_size", str(batch_size), chat=False), tmp_path
        )
    assert result.returncode == 0, result.stderr[-3000:]
    # The plain-layout prompt differs from the chat one, but this judge only reads the slots.
    assert results_of(tmp_path / "out")["results"] == baseline["results"]
    assert sample_scores(tmp_path / "out") == baseline["samples"]


@pytest.mark.slow
def test_limit_prefix_scores_rows_as_the_full_run(tmp_path, baseline):
    with ScriptedJudge(shortest_first) as url:
        result = run(lm_eval_command(url, tmp_path / "out", "--limit", "9"), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    limited = sample_scores(tmp_path / "out")
    assert len(limited) == 9
    assert limited == {uid: baseline["samples"][uid] for uid in limited}


# --- 3. Integrity --------------------------------------------------------------------------


def test_bundled_sample_matches_its_manifest():
    report = check_integrity(load_sample(), full_set=False, strict=True)
    assert report.manifest == "bundled-sample" and report.problems == []


def test_modified_file_is_reported_and_strict_mode_refuses_it(tmp_path):
    for path in SAMPLE_DIR.glob("*.jsonl"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    math = tmp_path / "Math.jsonl"
    math.write_text(math.read_text().replace("crates", "boxes", 1))
    report = check_integrity(load_local(tmp_path), full_set=False)
    assert report.manifest is None
    assert any("match no known release manifest" in problem for problem in report.problems)
    with pytest.raises(IntegrityError, match=r"Math\.jsonl="):
        check_integrity(load_local(tmp_path), full_set=False, strict=True)


def test_full_set_counts_are_checked(tmp_path):
    write_dataset(tmp_path, scale="full")
    assert [
        p for p in check_integrity(load_local(tmp_path), full_set=True).problems if "manifest" not in p
    ] == []
    cite = tmp_path / "Cite.jsonl"
    lines = cite.read_text().splitlines(keepends=True)
    dropped = json.loads(lines[5])
    cite.write_text("".join(lines[:5] + lines[6:]))
    with pytest.raises(IntegrityError, match=r"Cite\.jsonl has 389 rows, fewer than the benchmark's 390"):
        check_integrity(load_local(tmp_path), full_set=True)  # a full run on missing rows: refused
    problems = check_integrity(load_local(tmp_path), full_set=True, partial=True).problems
    assert "Cite.jsonl has 389 rows, the benchmark 390" in problems
    assert any(f"in the {dropped['ctx_length_for_length']} bucket" in problem for problem in problems)


# --- 4. Hostile input ----------------------------------------------------------------------


@pytest.mark.slow
def test_malformed_data_stops_the_cli_with_one_line_and_writes_nothing(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for path in SAMPLE_DIR.glob("*.jsonl"):
        (data / path.name).write_bytes(path.read_bytes())
    lines = (data / "Code.jsonl").read_text().splitlines(keepends=True)
    row = json.loads(lines[3])
    row["candidates_score"] = (
        [1.0, 2.0][: len(row["candidates"])] if row["candidates"] else row["candidates_score"]
    )
    row["chosen"] = 42  # mistyped whatever the format
    lines[3] = json.dumps(row) + "\n"
    (data / "Code.jsonl").write_text("".join(lines))
    command = [
        sys.executable, "-m", "lm_eval", "--model", "dummy", "--tasks", "longrewardbench_pairwise",
        "--metadata", json.dumps({"data_dir": str(data)}), "--output_path", str(tmp_path / "out"),
    ]  # fmt: skip
    result = run(command, tmp_path)
    assert result.returncode != 0
    message = [line for line in result.stderr.splitlines() if line.startswith("longrm-tasks error:")]
    assert message and f"Code.jsonl, row 3 (line 4), id {row['id']}" in message[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_transient_500_is_retried_and_changes_nothing(tmp_path, baseline):
    with ScriptedJudge(shortest_first, fault=lambda n: "500" if n == 3 else None) as url:
        result = run(lm_eval_command(url, tmp_path / "out"), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert results_of(tmp_path / "out")["results"] == baseline["results"]


@pytest.mark.slow
def test_persistent_500_fails_the_run_without_results(tmp_path):
    with ScriptedJudge(shortest_first, fault=lambda n: "500" if n >= 3 else None) as url:
        result = run(lm_eval_command(url, tmp_path / "out"), tmp_path)
    assert result.returncode != 0
    assert results_of(tmp_path / "out") is None


@pytest.mark.slow
def test_empty_choices_fail_the_run(tmp_path):
    with ScriptedJudge(shortest_first, fault=lambda n: "empty_choices" if n == 5 else None) as url:
        result = run(lm_eval_command(url, tmp_path / "out"), tmp_path)
    assert result.returncode != 0
    assert results_of(tmp_path / "out") is None


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["null_content", "no_message"])
def test_empty_judge_output_is_counted_and_strict_mode_refuses_it(tmp_path, baseline, fault):
    # lm-eval turns these API answers into None / "" with a mere warning: we count them apart
    # (empty_output), and strict mode stops the run instead of scoring them.
    with ScriptedJudge(shortest_first, fault=lambda n: fault if n == 5 else None) as url:
        lenient = run(lm_eval_command(url, tmp_path / "lenient"), tmp_path)
    with ScriptedJudge(shortest_first, fault=lambda n: fault if n == 5 else None) as url:
        strict = run(lm_eval_command(url, tmp_path / "strict", "--metadata", '{"strict": true}'), tmp_path)
    assert lenient.returncode == 0, lenient.stderr[-3000:]
    metrics = results_of(tmp_path / "lenient")["results"][TASK]
    assert metrics["empty_output,none"] == pytest.approx(1 / SAMPLE_ROWS)
    assert metrics["parse_fail,none"] >= 1 / SAMPLE_ROWS
    assert strict.returncode != 0
    assert "the judge returned no text" in strict.stderr
    assert results_of(tmp_path / "strict") is None


# --- 5. No code from data --------------------------------------------------------------------


def _function_targets(path: Path) -> list[str]:
    targets: list[str] = []

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!function", lambda loader, node: targets.append(loader.construct_scalar(node)))
    yaml.load(path.read_text(), Loader=Loader)
    return targets


def test_yaml_hooks_resolve_only_inside_this_package():
    targets = [target for path in task_yaml_dir().glob("*.yaml") for target in _function_targets(path)]
    assert targets and all(target.startswith("longrm_tasks.") for target in targets), targets
