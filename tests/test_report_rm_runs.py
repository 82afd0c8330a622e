"""``longrm report`` and ``longrm submission`` over an lm-eval run of a ``*_rm`` task.

The run's per-sample log holds one log-likelihood per slot (the "reward"); the report ranks them
like the task does (spec §5). ``--model dummy`` gives arbitrary rewards, so every slot position wins
somewhere and the scores are not trivial.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.subprocesses import lm_eval_command, offline_env

from longrm_tasks.cli import main
from longrm_tasks.results.lm_eval_runs import load_lm_eval

pytestmark = pytest.mark.slow
TASK = "longrewardbench_sample_rm"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("rm_run")
    env = offline_env()
    command = [
        *lm_eval_command(),
        "--model",
        "dummy",
        "--tasks",
        TASK,
        "--output_path",
        "out",
        "--log_samples",
    ]
    proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return workdir / "out"


def _by_hand(rewards: list[float], order: list[int]) -> float:
    """Rank-match ratio of the stable descending sort of the rewards (ties: earlier slot first)."""
    ranked = sorted(range(len(rewards)), key=lambda slot: -rewards[slot])
    predicted_rank = [ranked.index(slot) for slot in range(len(rewards))]
    return sum(p == g for p, g in zip(predicted_rank, order, strict=True)) / len(order)


def test_rm_run_records_rank_the_logged_rewards(run_dir: Path) -> None:
    (run,) = load_lm_eval(run_dir)  # also checks every aggregate lm-eval reported
    assert run.task == TASK and len(run.samples) == 62
    (samples_path,) = run_dir.glob(f"*/samples_{TASK}_*.jsonl")
    logged = [json.loads(line) for line in samples_path.read_text("utf-8").splitlines() if line.strip()]
    records = {record.key: record for record in run.samples}
    scores = set()
    for entry in logged:
        doc = entry["doc"]
        rewards = [float(result[0]) for result in entry["filtered_resps"]]
        expected = _by_hand(rewards, list(doc["order"]))
        record = records[(doc["task_file"], int(doc["row_index"]))]
        assert record.score == pytest.approx(expected, abs=1e-12) == entry["avg"], doc["uid"]
        assert record.parsed and record.response is None
        scores.add(expected)
    assert len(scores) > 2  # wins, losses and partial credit


def test_report_and_submission_of_an_rm_run(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--out", str(out), "--iterations", "200", "--no-plots"]) == 0
    summary = json.loads((out / "report.json").read_text("utf-8"))
    assert len(summary["runs"]) == 1
    submission = tmp_path / "rm.json"
    assert main(["submission", str(run_dir), "--out", str(submission), "--type", "scalar"]) == 0
    document = json.loads(submission.read_text("utf-8"))
    assert document["model"]["type"] == "scalar" and len(document["samples"]) == 62
    assert main(["validate", str(submission)]) == 0
