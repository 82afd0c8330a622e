"""The results layer: per-sample records of judged runs, and the files they are read from.

Everything that reads a run lives here — lm-eval outputs, OpenCompass work dirs, leaderboard
submissions (schema, validation, building) and reference files — so ``report``, ``compare``,
``submission``, ``validate`` and ``leaderboard`` all see a run through one loader. Nothing here
imports a harness, ``report`` or ``leaderboard``.
"""

from __future__ import annotations

from .loaders import load_all, load_runs
from .records import ReportError, Run, SampleRecord

__all__ = ["ReportError", "Run", "SampleRecord", "load_all", "load_runs"]
