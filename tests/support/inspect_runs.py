"""Running the Long-RewardBench Inspect tasks in tests, offline, against scripted judges on 127.0.0.1.

- :func:`run_task`: one of our ``@task`` functions through ``inspect_ai.eval`` in this process. The model
  is built unmemoized with this judge's URL: Inspect caches models by name, and a cached client would
  keep retrying the previous (stopped) judge.
- :func:`cli_environment`: the environment for the ``inspect`` CLI: this checkout first on
  ``PYTHONPATH``, then a folder holding a ``.dist-info`` with ``pyproject.toml``'s entry points, so that
  ``inspect eval longrm_tasks/<task>`` finds the tasks through the package's entry point even where the
  checkout is installed from an older commit (or not at all); hub and datasets offline.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inspect_ai import eval
from inspect_ai.log import EvalLog
from inspect_ai.model import get_model

from support.entry_points import ROOT, write_dist_info
from support.scripted_judge import Fault, ScriptedJudge

MODEL = "openai-api/scripted/scripted-judge"
PROBE_DIST = "longrm-tasks-inspect-probe"


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


def executable(name: str) -> str:
    """A console script of the running interpreter's environment (else from ``PATH``)."""
    script = Path(sys.executable).with_name(name)
    return str(script) if script.exists() else shutil.which(name) or name


def cli_environment(site: Path, **extra: str) -> dict[str, str]:
    """Environment for an ``inspect`` subprocess that finds the tasks through the entry point."""
    write_dist_info(site, PROBE_DIST)
    path = os.pathsep.join(filter(None, [str(ROOT), str(site), os.environ.get("PYTHONPATH", "")]))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LONGRM_", "INSPECT_"))}
    env.update(
        PYTHONPATH=path,
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        TOKENIZERS_PARALLELISM="false",
        **extra,
    )
    return env
