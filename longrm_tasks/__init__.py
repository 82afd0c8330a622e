"""Long-RewardBench for lm-evaluation-harness, OpenCompass and Inspect AI: the harness-agnostic core.

Nothing in the core imports a harness. Harness glue lives in ``longrm_tasks.adapters`` and the lm-eval
task definitions in ``longrm_tasks.task_yamls``: in a checkout these are links to the top-level
``adapters/`` and ``task_yamls/`` folders, so a source tree, an editable install and a wheel all hold
the same files at the same module paths (tools that locate configs by file path, such as mmengine's
``read_base``, see one layout).
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def task_yaml_dir() -> Path:
    """Folder of the lm-eval task YAMLs (for ``--include_path``)."""
    return Path(__file__).resolve().parent / "task_yamls"
