"""Errors raised by the core, each carrying enough context to act on without a traceback."""

from __future__ import annotations


class LongRMError(Exception):
    """Base class of this package's user-facing errors."""


class RowValidationError(LongRMError, ValueError):
    """A data row breaks the official schema; names the file, row, id and field."""

    def __init__(self, file: str, row: int | None, row_id: object, field: str | None, problem: str) -> None:
        self.file, self.row, self.row_id, self.field, self.problem = file, row, row_id, field, problem
        where = [file]
        if row is not None:
            where.append(f"row {row} (line {row + 1})")
        if row_id is not None:
            where.append(f"id {row_id!r}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class DataSourceError(LongRMError, OSError):
    """The benchmark data could not be obtained (hub unreachable, folder incomplete, ...)."""


def our_errors(error: BaseException) -> list[LongRMError]:
    """The :class:`LongRMError` behind ``error``: the error itself, or every error of an exception group
    when all of them are ours (async harnesses such as Inspect wrap a task's error in task-group
    exception groups); empty when anything else is involved."""
    if isinstance(error, LongRMError):
        return [error]
    inner = getattr(error, "exceptions", None)
    if not isinstance(inner, tuple) or not inner:
        return []
    found: list[LongRMError] = []
    for one in inner:
        leaves = our_errors(one)
        if not leaves:
            return []
        found += leaves
    return found


def install_excepthook() -> None:
    """Show an uncaught :class:`LongRMError` as its one-line message (exit status 1), not a traceback.

    Only uncaught errors of this package are affected; everything else goes to the previous hook,
    and code that catches the error sees the normal exception.
    """
    import sys

    previous = sys.excepthook
    if getattr(previous, "_longrm_hook", False):
        return

    def hook(kind: type[BaseException], error: BaseException, traceback: object) -> None:
        ours = our_errors(error)
        if ours:
            for one in ours:
                print(f"longrm-tasks error: {one}", file=sys.stderr)
            return
        previous(kind, error, traceback)  # type: ignore[arg-type]

    hook._longrm_hook = True  # type: ignore[attr-defined]
    sys.excepthook = hook
