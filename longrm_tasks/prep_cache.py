"""On-disk cache of prepared documents and token counts (parity and context-only truncation, audits,
the planner).

Tokenizing 1,900 long prompts is the slow part of preparing a run; a warm run reads the result back.
A cut text is stored as its change to the original (:func:`splice`), so an entry holds numbers and
short strings, not the 300 MB of contexts. Entries are keyed by everything that can change them: the
data files' sha256, the data source, the formats, the tokenizer's full definition and chat template,
the cut settings, this package's version and the source of the modules that build prompts. Files are
plain JSON, written atomically. Location: ``cache_dir`` in ``--metadata`` (or ``--cache-dir``), else
``$LONGRM_CACHE_DIR``, else ``$XDG_CACHE_HOME/longrm_tasks`` (``~/.cache/longrm_tasks``); ``off`` turns
it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import __version__

CACHE_ENV = "LONGRM_CACHE_DIR"
CACHE_KEY = "cache_dir"
#: Bump when the layout of cached entries changes.
CACHE_FORMAT = 3
_OFF = ("off", "none", "0", "false", "no")
#: Modules whose source decides what a cached entry holds.
_SOURCES = (
    "prompts.py",
    "order.py",
    "items.py",
    "rendering.py",
    "run.py",
    "truncation/context.py",
    "truncation/parity.py",
    "truncation/tokenizers.py",
    "audit.py",
    "plan.py",
)
log = logging.getLogger("longrm_tasks")


#: How an edited text is stored: ``[head, middle, tail_from]`` for ``original[:head] + middle +
#: original[tail_from:]``; ``None`` for the original itself.
Splice = list[Any] | None


def splice(original: str, edited: str) -> Splice:
    """``edited`` as a change to ``original``: the longest common head and tail kept by position."""
    if edited is original or edited == original:
        return None
    limit = min(len(original), len(edited))
    head = _common_length(original, edited, limit, lambda text, n: text[:n])
    tail = _common_length(original, edited, limit - head, lambda text, n: text[len(text) - n :])
    return [head, edited[head : len(edited) - tail], len(original) - tail]


def unsplice(original: str, change: Splice) -> str:
    """The text :func:`splice` describes."""
    if change is None:
        return original
    head, middle, tail_from = change
    return original[:head] + middle + original[tail_from:]


def _common_length(first: str, second: str, limit: int, part: Callable[[str, int], str]) -> int:
    """Largest ``n <= limit`` with ``part(first, n) == part(second, n)`` (binary search; slices compare
    at C speed)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if part(first, middle) == part(second, middle):
            low = middle
        else:
            high = middle - 1
    return low


def cache_dir(options: Mapping[str, Any] | None = None) -> Path | None:
    """The cache folder for ``options`` (``None`` when caching is off)."""
    value = (options or {}).get(CACHE_KEY)
    if value is None:
        value = os.environ.get(CACHE_ENV)
    if value is False or (isinstance(value, str) and value.strip().lower() in _OFF):
        return None
    if value:
        return Path(str(value)).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "longrm_tasks"


def code_fingerprint() -> str:
    """sha256 of this package's version and the source of the modules that build cached entries."""
    digest = hashlib.sha256(__version__.encode("utf-8"))
    folder = Path(__file__).resolve().parent
    for name in _SOURCES:
        path = folder / name
        digest.update(b"\x00" + name.encode("utf-8") + b"\x00")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(parts: Mapping[str, Any]) -> str:
    """Key of an entry: sha256 of its parts (JSON, sorted keys) with the format and code fingerprint."""
    payload = {"format": CACHE_FORMAT, "code": code_fingerprint(), **parts}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _path(folder: Path, kind: str, key: str) -> Path:
    return folder / f"{kind}-{key[:32]}.json"


def load_entry(folder: Path | None, kind: str, key: str) -> Any | None:
    """The cached value of ``kind``/``key``, or ``None`` (missing, unreadable, for another key, or
    altered since it was written)."""
    if folder is None:
        return None
    path = _path(folder, kind, key)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    header_line, _, body = raw.partition(b"\n")
    try:
        header = json.loads(header_line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("key") != key:
        return None
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        log.warning("Long-RewardBench: cache entry %s does not match its hash; rebuilding it", path.name)
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def store_entry(folder: Path | None, kind: str, key: str, value: Any) -> Path | None:
    """Write ``value`` atomically; returns the file, or ``None`` when caching is off or not possible."""
    if folder is None:
        return None
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    header = json.dumps({"key": key, "sha256": hashlib.sha256(body).hexdigest()}).encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{kind}-", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            stream.write(header + b"\n" + body)
        target = _path(folder, kind, key)
        os.replace(temporary, target)
        return target
    except OSError:
        return None


def cached(
    folder: Path | None, kind: str, parts: Mapping[str, Any], build: Callable[[], Any]
) -> tuple[Any, bool]:
    """``(value, hit)``: the cached value for ``parts``, else ``build()`` (then stored)."""
    key = cache_key({"kind": kind, **parts})
    value = load_entry(folder, kind, key)
    if value is not None:
        return value, True
    value = build()
    store_entry(folder, kind, key, value)
    return value, False
