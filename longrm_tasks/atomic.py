"""Output files written whole or not at all: a temporary file in the same folder, then one rename.

Text is encoded before any file is touched, and the rename replaces the old file in one step, so an
unencodable string, a full disk or a killed process leaves the previous report, page or submission
exactly as it was (and no temporary file behind).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import LongRMError


class OutputError(LongRMError, OSError):
    """An output file could not be written (the previous one, if any, is unchanged)."""


def _mode(path: Path) -> int:
    """Permissions of the file being replaced, else the ones a plain ``open`` would give."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (parent folders are created)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _mode(path))
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _encoded(path: Path, content: bytes | str) -> bytes:
    if isinstance(content, bytes):
        return content
    try:
        return content.encode("utf-8")
    except UnicodeEncodeError as error:
        raise OutputError(
            f"cannot write {path}: the text holds a character that cannot be encoded "
            f"({error.object[error.start]!r} at position {error.start}); nothing was written"
        ) from None


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` as UTF-8, atomically; text that cannot be encoded is refused
    before anything is written."""
    write_bytes(path, _encoded(Path(path), text))


def write_files(folder: str | os.PathLike[str], files: Mapping[str, bytes | str]) -> list[Path]:
    """Write every file of ``files`` (name → content) into ``folder``, each one atomically.

    All text is encoded first, so a bad string stops the whole set before any file changes.
    """
    encoded = {Path(folder) / name: _encoded(Path(folder) / name, content) for name, content in files.items()}
    for path, data in encoded.items():
        write_bytes(path, data)
    return list(encoded)
