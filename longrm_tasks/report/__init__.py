"""Reports from judged runs: loading per-sample records, tables, bootstrap statistics, plots.

Nothing here imports a harness; lm-eval and OpenCompass outputs are read as files.
"""

from __future__ import annotations

from .loaders import load_all, load_runs
from .records import ReportError, Run, SampleRecord

__all__ = ["ReportError", "Run", "SampleRecord", "load_all", "load_runs"]
