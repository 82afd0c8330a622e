"""Running the Long-RewardBench Inspect tasks in tests, offline, against scripted judges on 127.0.0.1.

- :func:`run_task`: one of our ``@task`` functions through ``inspect_ai.eval`` in this process. The model
  is built unmemoized with this judge's URL: Inspect caches models by name, and a cached client would
  keep retrying the previous (stopped) judge.
- :func:`run_cli`: ``inspect eval longrm_tasks/<task>`` in a subprocess against a scripted judge;
- :func:`cli_environment`: the environment for the ``inspect`` CLI: this checkout first on
  ``PYTHONPATH``, then a folder holding a ``.dist-info`` with ``pyproject.toml``'s entry points, so that
  ``inspect eval longrm_tasks/<task>`` finds the tasks through the package's entry point even where the
  checkout is installed from an older commit (or not at all); hub and datasets offline.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import get_model

from support.entry_points import ROOT, write_dist_info
from support.scripted_judge import Fault, ScriptedJudge
from support.subprocesses import executable, offline_env

MODEL = "openai-api/scripted/scripted-judge"
PROBE_DIST = "longrm-tasks-inspect-probe"
CLI_TIMEOUT_S = 420


def run_task(
    task: Callable[..., Any],
    log_dir: Path,
    policy: Callable[[list[str], list[dict[str, Any]]], str],
    *,
    task_args: Mapping[str, Any] | None = None,
    log_format: str = "eval",
    fault: Fault | None = None,
    limit: int | None = None,
) -> tuple[EvalLog, ScriptedJudge]:
    """Evaluate ``task`` against a scripted judge answering with ``policy``; the log and the judge."""
    judge = ScriptedJudge(policy, model_name="scripted-judge", fault=fault)
    with judge as base_url:
        model = get_model(MODEL, base_url=base_url, api_key="none", memoize=False)
        (log,) = eval(
            task,
            model=model,
            task_args=dict(task_args or {}),
            log_dir=str(log_dir),
            log_format=log_format,
            limit=limit,
            display="none",
            max_retries=1,
        )
    return log, judge


def figures(log: EvalLog) -> dict[str, float]:
    """The aggregates Inspect logged for the Long-RewardBench scorer."""
    (score,) = log.results.scores
    return {key: metric.value for key, metric in score.metrics.items()}


def cli_environment(site: Path, **extra: str) -> dict[str, str]:
    """Environment for an ``inspect`` subprocess that finds the tasks through the entry point."""
    write_dist_info(site, PROBE_DIST)
    path = os.pathsep.join(filter(None, [str(ROOT), str(site), os.environ.get("PYTHONPATH", "")]))
    return offline_env(("LONGRM_", "INSPECT_"), PYTHONPATH=path, **extra)


def run_cli(
    workdir: Path,
    policy: Callable[[list[str], list[dict[str, Any]]], str],
    *,
    task: str = "longrewardbench_sample",
    task_args: Mapping[str, Any] | None = None,
) -> tuple[Path | None, ScriptedJudge, subprocess.CompletedProcess[str]]:
    """``inspect eval longrm_tasks/<task> --model openai-api/scripted/...`` in ``workdir``; its log (or
    ``None``), the judge and the finished process."""
    judge = ScriptedJudge(policy, model_name="scripted-judge")
    parameters = [item for key, value in (task_args or {}).items() for item in ("-T", f"{key}={value}")]
    with judge as base_url:
        env = cli_environment(workdir / "site", SCRIPTED_BASE_URL=base_url, SCRIPTED_API_KEY="none")
        command = [
            executable("inspect"), "eval", f"longrm_tasks/{task}", *parameters, "--model", MODEL,
            "--log-dir", str(workdir / "logs"), "--display", "plain",
        ]  # fmt: skip
        proc = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False
        )
    logs = sorted((workdir / "logs").glob("*.eval")) if (workdir / "logs").is_dir() else []
    return (logs[-1] if logs else None), judge, proc
