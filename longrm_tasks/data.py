"""Loading the benchmark: hub revision, a local folder of ``<Task>.jsonl`` files, or the sample.

Every source ends in the same strict JSONL reader, so validation and checksums are identical
whichever way the files arrived.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import HUB_DATASET_ID, HUB_REVISION, TASK_FILES
from .errors import DataSourceError, RowValidationError
from .schema import validate_row

#: Environment variable naming a local copy of the dataset (a folder of the seven files).
DATA_DIR_ENV = "LONGRM_DATA_DIR"
SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sample"


@dataclass
class BenchmarkData:
    """Validated rows per task file, plus where they came from."""

    rows: dict[str, list[dict[str, Any]]]
    source: str
    revision: str | None = None
    sha256: dict[str, str] = field(default_factory=dict)

    def provenance(self) -> dict[str, Any]:
        """What a result must record to be reproducible."""
        return {
            "dataset": HUB_DATASET_ID,
            "source": self.source,
            "revision": self.revision,
            "files_sha256": dict(self.sha256),
            "rows": {task: len(rows) for task, rows in self.rows.items()},
        }


#: A ``\\uD800``-``\\uDFFF`` escape: only lines holding one can decode to a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _DuplicateKey(ValueError):
    """A JSON object names the same key twice (the official files never do; which value wins is
    undefined across JSON readers, so such a row is refused)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _DuplicateKey(duplicate)
    return row


def _parse_line(text: str, name: str, number: int) -> Any:
    """One JSON line, or a one-line error for whatever makes it unreadable."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as error:
        raise RowValidationError(name, number, None, str(error), "key appears twice in the row") from None
    except json.JSONDecodeError as error:
        raise RowValidationError(
            name, number, None, None, f"not a JSON object ({error.msg} at column {error.colno})"
        ) from None
    except RecursionError:
        raise RowValidationError(name, number, None, None, "not a row: nested too deeply") from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        reason = str(error).split(";")[0][:120]
        raise RowValidationError(name, number, None, None, f"not a valid row ({reason})") from None


def _surrogate_field(row: Any, path: str = "") -> str | None:
    """The first field (dotted path) of ``row`` whose text holds a lone surrogate."""
    if isinstance(row, str):
        try:
            row.encode("utf-8")
        except UnicodeEncodeError:
            return path or "?"
        return None
    items = row.items() if isinstance(row, dict) else enumerate(row) if isinstance(row, list) else ()
    for key, value in items:
        found = _surrogate_field(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def read_task_file(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], str]:
    """Read and validate one ``<Task>.jsonl``; return its rows and the file's sha256."""
    path = Path(path)
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataSourceError(f"{path}: cannot read ({error.strerror or error})") from None
    parsed = _parse_plain_file(raw)
    rows = []
    first_row_of_id: dict[Any, int] = {}
    for number, row in enumerate(parsed) if parsed is not None else _parse_lines(raw, name):
        checked = validate_row(row, name, number)
        if checked["id"] in first_row_of_id:
            raise RowValidationError(
                name, number, checked["id"], "id", f"the same id as row {first_row_of_id[checked['id']]}"
            )
        first_row_of_id[checked["id"]] = number
        rows.append(checked)
    return rows, hashlib.sha256(raw).hexdigest()


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _parse_plain_file(raw: bytes) -> list[Any] | None:
    """Every line's JSON value, read in one pass over the decoded file (no copy of each line), for a
    file with nothing unusual: valid UTF-8, one JSON value per line with nothing around it, no blank
    line before the end, no lone-surrogate escape. ``None`` otherwise: :func:`_parse_lines` then reads
    it line by line and names what is wrong (or accepts what is merely unusual)."""
    if _SURROGATE_ESCAPE.search(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    position, end_of_text = (1 if text.startswith("\ufeff") else 0), len(text.rstrip("\n"))
    values = []
    while position < end_of_text:
        end = text.find("\n", position, end_of_text)
        end = end_of_text if end < 0 else end
        try:
            value, stop = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError):
            return None
        if stop > end or text[stop:end].strip(" \t\r"):
            return None
        values.append(value)
        position = end + 1
    return values


def _parse_lines(raw: bytes, name: str) -> Iterator[tuple[int, Any]]:
    """``(line number, JSON value)`` of every line, each checked on its own (one-line errors)."""
    lines = raw.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for number, line in enumerate(lines):
        if number == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RowValidationError(
                name, number, None, None, f"not valid UTF-8 (byte {error.start}: {error.reason})"
            ) from None
        if not text.strip():
            raise RowValidationError(name, number, None, None, "empty line inside the file")
        row = _parse_line(text, name, number)
        if _SURROGATE_ESCAPE.search(line):
            field = _surrogate_field(row)
            if field:
                row_id = row.get("id") if isinstance(row, dict) else None
                raise RowValidationError(
                    name, number, row_id, field, "text holds a lone surrogate (not UTF-8)"
                )
        yield number, row


def load_local(
    data_dir: str | os.PathLike[str], task_files: Sequence[str] = TASK_FILES, source: str = "local"
) -> BenchmarkData:
    """Load ``<Task>.jsonl`` for each of ``task_files`` from a folder."""
    folder = Path(data_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise DataSourceError(
            f"data folder {folder} is a file, not a folder (give the folder of the seven files)"
        )
    if not folder.is_dir():
        raise DataSourceError(f"data folder {folder} does not exist")
    missing = [task for task in task_files if not (folder / f"{task}.jsonl").is_file()]
    if missing:
        raise DataSourceError(f"data folder {folder} lacks {', '.join(f'{task}.jsonl' for task in missing)}")
    data = BenchmarkData(rows={}, source=f"{source}:{folder}" if source == "local" else source)
    for task in task_files:
        data.rows[task], data.sha256[f"{task}.jsonl"] = read_task_file(folder / f"{task}.jsonl")
    return data


def load_sample(task_files: Sequence[str] = TASK_FILES) -> BenchmarkData:
    """The bundled sample (generated by ``scripts/make_sample.py``)."""
    return load_local(SAMPLE_DIR, task_files, source="bundled-sample")


def _offline_error(reason: str) -> DataSourceError:
    return DataSourceError(
        f"cannot download {HUB_DATASET_ID}@{HUB_REVISION} from the Hugging Face hub ({reason}). "
        f"Point at a local copy (a folder with the seven <Task>.jsonl files): "
        f'--metadata \'{{"data_dir": "/path/to/LongRewardBench"}}\' '
        f"or {DATA_DIR_ENV}=/path/to/LongRewardBench"
    )


def resolve_hub_revision(revision: str = HUB_REVISION) -> str:
    """Full commit id of a pinned revision (a short hash is looked up in the hub's history)."""
    if len(revision) == 40:
        return revision
    from huggingface_hub import HfApi

    commits = HfApi().list_repo_commits(HUB_DATASET_ID, repo_type="dataset")
    matches = [commit.commit_id for commit in commits if commit.commit_id.startswith(revision)]
    if len(matches) != 1:
        raise DataSourceError(f"revision {revision!r} matches {len(matches)} commits of {HUB_DATASET_ID}")
    return matches[0]


def load_hub(revision: str = HUB_REVISION, task_files: Sequence[str] = TASK_FILES) -> BenchmarkData:
    """Download the pinned revision's files (cached by ``huggingface_hub``) and load them."""
    try:
        from huggingface_hub import hf_hub_download

        full_revision = resolve_hub_revision(revision)
        paths = {
            task: hf_hub_download(
                HUB_DATASET_ID, f"{task}.jsonl", repo_type="dataset", revision=full_revision
            )
            for task in task_files
        }
    except DataSourceError:
        raise
    except Exception as error:  # network, offline mode, auth: all end in the same advice
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise _offline_error(f"{type(error).__name__}: {reason[:200]}") from None
    data = BenchmarkData(rows={}, source="hub", revision=full_revision)
    for task in task_files:
        data.rows[task], data.sha256[f"{task}.jsonl"] = read_task_file(paths[task])
    return data


def load_benchmark(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    sample: bool = False,
    task_files: Sequence[str] = TASK_FILES,
) -> BenchmarkData:
    """Pick the source: the sample, else ``data_dir``, else ``$LONGRM_DATA_DIR``, else the hub."""
    if sample:
        return load_sample(task_files)
    folder = data_dir or os.environ.get(DATA_DIR_ENV)
    if folder:
        return load_local(folder, task_files)
    return load_hub(task_files=task_files)
