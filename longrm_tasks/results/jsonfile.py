"""Reading JSON that somebody else wrote: size first, strict parsing, then a strict schema.

The size is checked with ``stat`` before a byte is read (and reading stops at the limit); the
parser refuses NaN/Infinity, numbers too large for a float, duplicate keys and deep nesting; every
string must be encodable text (no lone surrogates); the schema's ``integer`` means a JSON integer
(``0.0`` is a number, not a row index). Each problem is recorded as one coded finding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .problems import Findings, short

#: Nesting deeper than this is refused (the formats read here nest at most 6 levels).
MAX_DEPTH = 32
#: Findings of one kind reported per file (then a count).
MAX_MESSAGES = 25


def read_json(path: str | Path, max_bytes: int, findings: Findings) -> Any:
    """The JSON value of the file at ``path``, or ``None`` with the problem recorded."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            findings.error("unreadable", "", "not a regular file")
            return None
        if size > max_bytes:
            findings.error("too-large", "", f"file is {size} bytes, more than the {max_bytes} byte limit")
            return None
        raw = _read_at_most(path, max_bytes + 1)
    except OSError as error:
        findings.error("unreadable", "", f"cannot read the file ({error.strerror or error})")
        return None
    return parse_json(raw, max_bytes, findings)


def _read_at_most(path: Path, limit: int, chunk: int = 1 << 20) -> bytes:
    """Up to ``limit`` bytes, in chunks (``read(limit)`` would allocate ``limit`` bytes up front, and
    the file may have grown since it was measured)."""
    parts: list[bytes] = []
    total = 0
    with path.open("rb") as handle:
        while total < limit:
            part = handle.read(min(chunk, limit - total))
            if not part:
                break
            parts.append(part)
            total += len(part)
    return b"".join(parts)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def parse_json(raw: bytes, max_bytes: int, findings: Findings) -> Any:
    """Bytes → JSON value (then :func:`check_tree`), or ``None`` with the problem recorded."""
    if len(raw) > max_bytes:
        findings.error("too-large", "", f"file is more than the {max_bytes} byte limit")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        findings.error("not-utf8", "", f"not UTF-8 text (byte {error.start}: {error.reason})")
        return None
    duplicates: list[str] = []

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document = dict(pairs)
        if len(document) != len(pairs):
            seen: set[str] = set()
            duplicates.extend(key for key, _ in pairs if key in seen or seen.add(key))
        return document

    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite, object_pairs_hook=unique_keys
        )
    except json.JSONDecodeError as error:
        findings.error(
            "not-json", "", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        )
        return None
    except ValueError as error:  # NaN / Infinity, a float out of range, an integer of > 4,300 digits
        findings.error("not-json", "", f"not valid JSON: {error}")
        return None
    except RecursionError:
        findings.error("too-deep", "", f"nested too deeply (more than {MAX_DEPTH} levels)")
        return None
    if duplicates:
        findings.error(
            "duplicate-key", "", f"an object repeats the key {short(duplicates[0])} (ambiguous: refused)"
        )
        return None
    return value if check_tree(value, findings) else None


def _where(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def check_tree(value: Any, findings: Findings) -> bool:
    """Depth within :data:`MAX_DEPTH` and every string (keys included) encodable as UTF-8."""
    bad_text = 0
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            findings.error("too-deep", _where(path[:MAX_DEPTH]), f"nested more than {MAX_DEPTH} levels")
            return False
        if isinstance(item, dict):
            for key, child in item.items():
                if not _encodable(key):
                    bad_text += _bad_text(findings, _where(path), f"key {short(key)}", bad_text)
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(item))
        elif isinstance(item, str) and not _encodable(item):
            bad_text += _bad_text(findings, _where(path), short(item), bad_text)
    return not findings.errors


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_text(findings: Findings, where: str, what: str, already: int) -> int:
    if already < MAX_MESSAGES:
        findings.error("bad-text", where, f"{what} holds a lone surrogate: not text that can be written")
    return 1


def versioned(document: Any, key: str, expected: str, noun: str, findings: Findings) -> bool:
    """Whether ``document`` is an object whose ``key`` names ``expected`` (one clear message if not,
    so an old or foreign file is not answered with a page of schema errors)."""
    if not isinstance(document, dict):
        findings.error("not-object", "$", f"{noun} is a JSON object, got {type(document).__name__}")
        return False
    version = document.get(key)
    if version != expected:
        what = "missing" if version is None else f"unsupported ({short(version)})"
        findings.error("schema-version", f"$.{key}", f"{what}: this validator reads {expected!r}")
        return False
    return True


def schema_findings(document: Any, schema: dict[str, Any], findings: Findings) -> bool:
    """Check ``document`` against a draft 2020-12 ``schema`` whose integers are JSON integers."""
    errors = sorted(
        _validator(schema).iter_errors(document),
        key=lambda e: ([(isinstance(p, str), p) for p in e.absolute_path], e.message),
    )
    for error in errors[:MAX_MESSAGES]:
        message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
        findings.error("schema", _where(tuple(error.absolute_path)), message)
    if len(errors) > MAX_MESSAGES:
        findings.error("schema", "", f"... and {len(errors) - MAX_MESSAGES} more schema errors")
    return not errors


def _validator(schema: dict[str, Any]) -> Any:
    try:
        from jsonschema import Draft202012Validator, validators
    except ImportError:
        raise SystemExit("validation needs jsonschema: pip install 'longrm-tasks[report]'") from None
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return validators.extend(Draft202012Validator, type_checker=checker)(schema)
