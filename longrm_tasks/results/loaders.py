"""One entry point for every kind of run and results file.

- :func:`load_runs` (``report``, ``compare``, ``submission``): an lm-eval ``--output_path`` folder (or
  a ``results_*.json`` file) written with ``--log_samples``; an OpenCompass work dir; an Inspect AI log
  (``.eval`` or ``.json``, a file or a folder of logs); a submission.
- :func:`read_file` (``validate``, ``leaderboard``, ``report --reference``): one JSON file, read with
  its size checked first and parsed whole (never sniffed), then classified by its content — a
  submission or a reference file, validated by its own schema, or another JSON file — so every
  command that reads a file accepts and refuses exactly the same ones, for the same coded reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .inspect_runs import is_inspect_log, load_inspect
from .jsonfile import read_json
from .lm_eval_runs import load_lm_eval, result_files
from .opencompass_runs import is_opencompass_dir, load_opencompass
from .problems import Findings
from .records import ReportError, Run
from .reference import MAX_REFERENCE_BYTES, ReferenceRow, is_reference, validate_reference_document
from .scope import Scope, earned_scope
from .submission_schema import MAX_BYTES
from .validation import Validation, validate_document

SUBMISSION, REFERENCE, OTHER, UNREADABLE = "submission", "reference", "other", "unreadable"


def is_submission(document: Any) -> bool:
    """Whether a parsed JSON value claims to be a submission (of any version, or without one)."""
    if not isinstance(document, dict):
        return False
    version = document.get("schema_version")
    if isinstance(version, str) and version.startswith("longrm-submission/"):
        return True
    return "model" in document and "samples" in document


@dataclass
class LoadedFile:
    """A JSON file as every command sees it: its kind, findings and, when valid, its content."""

    path: Path
    kind: str
    findings: Findings = field(default_factory=Findings)
    run: Run | None = None
    scope: Scope | None = None
    rows: list[ReferenceRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Valid submission or reference file (``other`` files are neither valid nor refused)."""
        return self.kind in (SUBMISSION, REFERENCE) and self.findings.ok


def read_file(path: str | Path, data_dir: str | Path | None = None) -> LoadedFile:
    """Read, classify and validate one JSON file (see the module docstring)."""
    path = Path(path)
    findings = Findings()
    document = read_json(path, MAX_BYTES, findings)
    if findings.errors:
        return LoadedFile(path, UNREADABLE, findings)
    if is_submission(document):
        result = validate_document(document, data_dir, Validation(warnings=findings.warnings))
        loaded = LoadedFile(path, SUBMISSION, result, run=result.run)
        if result.run is not None:
            result.run.source = str(path)
            loaded.scope = earned_scope(result.run)
        return loaded
    if is_reference(document):
        size = path.stat().st_size
        if size > MAX_REFERENCE_BYTES:
            findings.error(
                "too-large", "", f"reference file is {size} bytes, more than the {MAX_REFERENCE_BYTES} limit"
            )
            return LoadedFile(path, REFERENCE, findings)
        reference = validate_reference_document(document)
        return LoadedFile(path, REFERENCE, reference, rows=reference.rows)
    return LoadedFile(path, OTHER, findings)


def json_files(paths: Iterable[str | Path]) -> dict[Path, str]:
    """Every ``*.json`` file at or below ``paths`` → how to show it: relative to the folder it was
    found in (no machine paths on a published page). Paths named directly are kept whatever they
    are (:func:`read_file` refuses what is not a regular file); in folders, only regular files."""
    found: dict[Path, str] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise ReportError(f"{path}: no such file or folder")
        if not path.is_dir():
            found.setdefault(path, path.name)
            continue
        for file in path.rglob("*.json"):
            if file.is_file():
                found.setdefault(file, file.relative_to(path).as_posix())
    return dict(sorted(found.items()))


def load_runs(path: str | Path, name: str | None = None) -> list[Run]:
    """Every Long-RewardBench run found at ``path`` (see the module docstring for what is accepted)."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: no such file or folder")
    if path.is_file() and is_inspect_log(path):
        return load_inspect(path, name)
    if path.is_file() and path.suffix == ".json" and not path.name.startswith("results_"):
        loaded = read_file(path)
        if loaded.kind == SUBMISSION:
            if loaded.run is None:
                raise ReportError(f"{path}: invalid submission: {loaded.findings.summary(5)}")
            if name:
                loaded.run.name = name
            return [loaded.run]
        if loaded.kind == UNREADABLE:
            raise ReportError(f"{path}: {loaded.findings.summary()}")
        if loaded.kind == REFERENCE:
            raise ReportError(f"{path}: a reference file (paper or control rows), not a judged run")
    if result_files(path):
        return load_lm_eval(path, name)
    if is_opencompass_dir(path):
        return load_opencompass(path, name)
    if is_inspect_log(path):
        return load_inspect(path, name)
    raise ReportError(
        f"{path}: found neither lm-eval results (results_*.json with --log_samples), "
        "an OpenCompass work dir, an Inspect log (.eval or .json), nor a longrm submission"
    )


def load_all(paths: list[str | Path], names: list[str] | None = None) -> list[Run]:
    """Runs of several paths; ``names`` (if given) label them in order; duplicate labels get a suffix."""
    runs: list[Run] = []
    for i, path in enumerate(paths):
        runs += load_runs(path, names[i] if names and i < len(names) else None)
    seen: dict[str, int] = {}
    for run in runs:
        if run.name in seen:
            seen[run.name] += 1
            run.name = f"{run.name} #{seen[run.name]}"
        else:
            seen[run.name] = 1
    return runs
