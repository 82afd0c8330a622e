"""One entry point for every kind of run: ``load_runs(path) -> list[Run]``.

Accepted: an lm-eval ``--output_path`` folder (or a ``results_*.json`` file) written with
``--log_samples``; an OpenCompass work dir; a leaderboard submission file (``longrm-submission/*``).
"""

from __future__ import annotations

import json
from pathlib import Path

from .lm_eval_runs import load_lm_eval, result_files
from .opencompass_runs import is_opencompass_dir, load_opencompass
from .records import ReportError, Run


def _is_submission(path: Path) -> bool:
    if path.suffix != ".json" or path.name.startswith("results_"):
        return False
    try:
        head = path.read_text("utf-8")[:4096]
    except OSError:
        return False
    return '"schema_version"' in head and "longrm-submission/" in head


def load_runs(path: str | Path, name: str | None = None) -> list[Run]:
    """Every Long-RewardBench run found at ``path`` (see the module docstring for what is accepted)."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: no such file or folder")
    if path.is_file() and _is_submission(path):
        from .submission import load_submission_run

        return [load_submission_run(path, name)]
    if result_files(path):
        return load_lm_eval(path, name)
    if is_opencompass_dir(path):
        return load_opencompass(path, name)
    if path.is_file():
        try:
            json.loads(path.read_text("utf-8"))
        except ValueError as error:
            raise ReportError(f"{path}: not valid JSON ({error})") from None
    raise ReportError(
        f"{path}: found neither lm-eval results (results_*.json with --log_samples), "
        "an OpenCompass work dir, nor a longrm submission"
    )


def load_all(paths: list[str | Path], names: list[str] | None = None) -> list[Run]:
    """Runs of several paths; ``names`` (if given) label them in order; duplicate labels get a suffix."""
    runs: list[Run] = []
    for i, path in enumerate(paths):
        runs += load_runs(path, names[i] if names and i < len(names) else None)
    seen: dict[str, int] = {}
    for run in runs:
        if run.name in seen:
            seen[run.name] += 1
            run.name = f"{run.name} #{seen[run.name]}"
        else:
            seen[run.name] = 1
    return runs
