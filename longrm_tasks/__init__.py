"""Long-RewardBench for lm-evaluation-harness and OpenCompass: the harness-agnostic core.

Nothing here imports a harness. Harness glue lives in ``longrm_tasks.adapters`` and the lm-eval
task definitions in ``longrm_tasks.task_yamls`` (top-level ``adapters/`` and ``task_yamls/`` in
a source checkout, mapped into the package by the wheel build).
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent
if not (_PACKAGE_DIR / "adapters").is_dir() and (_SOURCE_ROOT / "adapters").is_dir():
    # Source checkout / editable install: serve ``longrm_tasks.adapters`` from the top-level folder.
    __path__.append(str(_SOURCE_ROOT))  # type: ignore[name-defined]


def task_yaml_dir() -> Path:
    """Folder of the lm-eval task YAMLs (for ``--include_path``)."""
    installed = _PACKAGE_DIR / "task_yamls"
    return installed if installed.is_dir() else _SOURCE_ROOT / "task_yamls"
