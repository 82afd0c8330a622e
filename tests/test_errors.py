"""Uncaught errors of this package print as one line, also when an async harness (Inspect, through
anyio task groups) wraps them in exception groups; anything else keeps its traceback."""

from __future__ import annotations

import builtins
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from longrm_tasks.errors import LongRMError, RowValidationError, our_errors

ROOT = Path(__file__).resolve().parents[1]
Group = getattr(builtins, "ExceptionGroup", None)
pytestmark = pytest.mark.skipif(Group is None, reason="exception groups need Python 3.11")


def test_our_errors_unwrap_nested_groups_only_when_all_are_ours() -> None:
    first, second = LongRMError("first"), RowValidationError("Cite.jsonl", 2, 17, "order", "bad")
    assert our_errors(first) == [first]
    assert our_errors(Group("task group", [Group("inner", [first]), second])) == [
        first,
        second,
    ]
    assert our_errors(Group("task group", [first, ValueError("not ours")])) == []
    assert our_errors(ValueError("not ours")) == []


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        ("ExceptionGroup('tg', [ExceptionGroup('inner', [LongRMError('row 3: bad')])])", "row 3: bad"),
        ("ExceptionGroup('tg', [LongRMError('a'), ValueError('b')])", None),
    ],
    ids=["ours", "mixed"],
)
def test_the_hook_prints_one_line_per_error_of_ours(raised: str, expected: str | None) -> None:
    code = textwrap.dedent(
        f"""
        from longrm_tasks.errors import LongRMError, install_excepthook
        install_excepthook()
        raise {raised}
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 1
    if expected is None:
        assert "Traceback" in proc.stderr and "ValueError: b" in proc.stderr
    else:
        assert proc.stderr == f"longrm-tasks error: {expected}\n"
