"""Findings about an input file: one coded, located message per problem (never a traceback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding: a stable code (for tests and tools), where it is, and what is wrong."""

    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class Findings:
    """Errors (the file is refused) and warnings (it is accepted, with a remark) about one file."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, code: str, where: str, message: str) -> None:
        self.errors.append(Problem(code, where, message))

    def warn(self, code: str, where: str, message: str) -> None:
        self.warnings.append(Problem(code, where, message))

    def extend(self, other: Findings) -> None:
        self.errors += other.errors
        self.warnings += other.warnings

    def summary(self, limit: int = 3) -> str:
        """The first ``limit`` errors on one line, with their codes."""
        shown = "; ".join(f"[{p.code}] {p}" for p in self.errors[:limit])
        more = len(self.errors) - limit
        return shown + (f"; and {more} more" if more > 0 else "")


def short(value: Any, limit: int = 80) -> str:
    """``repr`` of a value from an input file, cut to ``limit`` characters (control characters escaped)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
