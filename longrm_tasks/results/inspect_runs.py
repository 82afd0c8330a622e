"""Loading Inspect AI eval logs (``.eval`` archives and ``.json`` logs) of the Long-RewardBench tasks.

Contract with the Inspect tasks (``longrm_tasks.adapters.inspect``), which is what this reader checks:

- each sample's ``metadata`` holds the settled document's fields, as the lm-eval tasks log them (``uid``,
  ``task_file``, ``row_index``, ``row_id``, ``tasktype``, ``subtype``, ``length_bucket``, ``order``,
  ``truncation``, ``context_cut``, ...), and its output's ``completion`` is the judge's text;
- the Long-RewardBench scorer's value is a dict over the task's metric keys
  (:func:`longrm_tasks.scoring.metric_inputs` through :func:`~longrm_tasks.scoring.scalar_inputs`):
  ``None`` (or NaN) = not counted; a ``(bucket, score)`` pair is logged as its score, since Inspect
  score values hold only scalars;
- that scorer's metrics in ``results.scores`` carry the aggregates under the same keys;
- ``eval.metadata["longrm"]`` holds the provenance that the lm-eval tasks record.

Every sample is rescored with the core. A logged per-sample value or an aggregate that disagrees
with the rescoring makes the run refused (:class:`ReportError`), as for lm-eval runs. Logs are read
with ``inspect_ai.log.read_eval_log`` when Inspect is installed. Otherwise a plain reader is used: a
``.json`` log is one JSON document; an ``.eval`` log is a zip of ``header.json`` (the log without
samples) and one ``samples/<id>_epoch_<n>.json`` per sample, with zstd-compressed members (method
93, read with the ``zstandard`` package) or stored/deflated ones.
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..scoring import METRIC_REDUCERS, metric_inputs, scalar_inputs
from .opencompass_runs import DOC_FIELDS, flatten_longrm
from .provenance import public_model_args
from .records import (
    TOLERANCE,
    ReportError,
    Run,
    SampleRecord,
    check_against_harness,
    check_records,
    record_from_response,
)

#: Zip compression method number of Zstandard (what Inspect writes ``.eval`` members with).
ZIP_ZSTD = 93
#: Metric key whose presence marks the Long-RewardBench scorer's value dict (the headline figure).
HEADLINE = "avg"

_JSON_LOG_START = re.compile(rb'\A\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')


def is_inspect_log(path: str | Path) -> bool:
    """Whether ``path`` is an Inspect log, or a folder holding at least one."""
    path = Path(path)
    if path.is_dir():
        return bool(log_files(path))
    if path.suffix == ".eval":
        return zipfile.is_zipfile(path)
    if path.suffix == ".json" and path.is_file():
        with path.open("rb") as handle:
            return bool(_JSON_LOG_START.match(handle.read(256)))
    return False


def log_files(path: Path) -> list[Path]:
    """Every Inspect log at or below ``path``."""
    if path.is_file():
        return [path]
    candidates = sorted([*path.rglob("*.eval"), *path.rglob("*.json")])
    return [candidate for candidate in candidates if is_inspect_log(candidate)]


def _inspect_installed() -> bool:
    return importlib.util.find_spec("inspect_ai") is not None


def _read_with_inspect(path: Path) -> dict[str, Any]:
    from inspect_ai.log import read_eval_log

    return read_eval_log(str(path)).model_dump(mode="python")


def _zip_member(archive: zipfile.ZipFile, name: str, path: Path) -> Any:
    """One JSON member of an ``.eval`` archive (zstd members decompressed with ``zstandard``)."""
    info = archive.getinfo(name)
    if info.compress_type != ZIP_ZSTD:
        return json.loads(archive.read(info))
    try:
        import zstandard
    except ImportError:
        raise ReportError(
            f"{path}: its members are zstd-compressed; install inspect-ai (or zstandard) to read it"
        ) from None
    # zipfile cannot open zstd members before Python 3.14: read the raw bytes behind the local header.
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
        if header[:4] != b"PK\x03\x04":
            raise ReportError(f"{path}: member {name}: bad local zip header")
        handle.seek(int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little"), 1)
        raw = handle.read(info.compress_size)
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True)
    return json.loads(reader.read())


def _read_plain(path: Path) -> dict[str, Any]:
    """The log as Inspect's JSON format, without Inspect installed."""
    if path.suffix == ".json":
        return json.loads(path.read_text("utf-8"))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "header.json" not in names:
            raise ReportError(f"{path}: no header.json in the archive (an unfinished or foreign .eval file)")
        log = _zip_member(archive, "header.json", path)
        log["samples"] = [
            _zip_member(archive, name, path)
            for name in sorted(names)
            if name.startswith("samples/") and name.endswith(".json")
        ]
    return log


def read_log(path: Path, *, use_inspect: bool | None = None) -> dict[str, Any]:
    """An Inspect log as a plain dict (Inspect's own reader when installed, unless told otherwise)."""
    use_inspect = _inspect_installed() if use_inspect is None else use_inspect
    try:
        log = _read_with_inspect(path) if use_inspect else _read_plain(path)
    except ReportError:
        raise
    except Exception as error:  # a truncated, foreign or corrupt file: one line, never a traceback
        message = str(error).splitlines()[0] if str(error) else ""
        raise ReportError(f"{path}: not a readable Inspect log ({type(error).__name__}: {message})") from None
    if not isinstance(log, Mapping) or not isinstance(log.get("eval"), Mapping):
        raise ReportError(f"{path}: not an Inspect log (no 'eval' header)")
    return dict(log)


def _same(logged: Any, expected: Any) -> bool:
    """A logged per-sample value against the core's scalar one (``None`` and NaN both mean "not
    counted")."""
    if logged is None or (isinstance(logged, float) and math.isnan(logged)):
        return expected is None
    if expected is None or not isinstance(logged, (int, float)):
        return False
    return abs(float(logged) - float(expected)) <= TOLERANCE


def _scorer_value(sample: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The Long-RewardBench scorer of a sample: its name and its value dict."""
    for scorer, score in (sample.get("scores") or {}).items():
        value = (score or {}).get("value") if isinstance(score, Mapping) else None
        if isinstance(value, Mapping) and HEADLINE in value:
            return scorer, dict(value)
    return None


def _completion(sample: Mapping[str, Any]) -> str:
    output = sample.get("output") or {}
    completion = output.get("completion") if isinstance(output, Mapping) else None
    return completion if isinstance(completion, str) else ""


def _record(sample: Mapping[str, Any], where: str) -> tuple[SampleRecord, str, dict[str, Any]]:
    """Rescore one logged sample and check every logged per-sample value against the rescoring."""
    doc = sample.get("metadata")
    if not isinstance(doc, Mapping):
        raise ReportError(f"{where}: no metadata (the Long-RewardBench doc fields)")
    missing = [key for key in DOC_FIELDS if key not in doc]
    if missing:
        raise ReportError(f"{where}: metadata lacks field {missing[0]!r}")
    if sample.get("error"):
        raise ReportError(f"{where} ({doc.get('uid')}): the sample ended in an error, so it has no verdict")
    scored = _scorer_value(sample)
    if scored is None:
        raise ReportError(f"{where} ({doc.get('uid')}): no Long-RewardBench score (a dict with {HEADLINE!r})")
    scorer, logged = scored
    try:
        record = record_from_response(doc, _completion(sample))
    except (KeyError, TypeError, ValueError) as error:
        raise ReportError(
            f"{where} ({doc.get('uid')}): bad metadata ({type(error).__name__}: {error})"
        ) from None
    expected = scalar_inputs(metric_inputs(record.scored()))
    for key, value in logged.items():
        if key in METRIC_REDUCERS and not _same(value, expected[key]):
            raise ReportError(
                f"{where} ({doc.get('uid')}): logged {key} {value!r} but the response rescores to "
                f"{expected[key]!r}"
            )
    return record, scorer, logged


def harness_aggregates(log: Mapping[str, Any], scorer: str) -> dict[str, float]:
    """The scorer's aggregates as Inspect reported them, under the core's metric keys."""
    values: dict[str, float] = {}
    for score in (log.get("results") or {}).get("scores") or []:
        if not isinstance(score, Mapping) or score.get("scorer") != scorer:
            continue
        for key, metric in (score.get("metrics") or {}).items():
            value = metric.get("value") if isinstance(metric, Mapping) else None
            if key in METRIC_REDUCERS and isinstance(value, (int, float)):
                values[key] = float(value)
    return values


def inspect_provenance(log: Mapping[str, Any]) -> dict[str, Any]:
    """Model, provider, generation settings, prompt set, data and versions of one Inspect run."""
    header = log.get("eval") or {}
    longrm = (header.get("metadata") or {}).get("longrm") or {}
    model = str(header.get("model") or "unknown")
    plan = log.get("plan") or {}
    flattened = flatten_longrm(longrm)
    return {
        "harness": "inspect",
        "task": header.get("task"),
        "model": model,
        "backend": model.split("/", 1)[0],
        "model_args": public_model_args(header.get("model_args")),
        "task_args": header.get("task_args"),
        "generation_config": {  # the task's settings, overridden by the command line's
            key: value
            for config in (plan.get("config"), header.get("model_generate_config"))
            for key, value in (config or {}).items()
            if value is not None
        },
        "limit": (header.get("config") or {}).get("limit"),
        **flattened,
        "formats": longrm.get("formats"),
        "pinned_hub_revision": longrm.get("pinned_hub_revision"),
        "truncation_tokenizer": longrm.get("truncation_tokenizer"),
        "versions": {**flattened.get("versions", {}), **(header.get("packages") or {})},
        "run_id": header.get("run_id"),
        "date": header.get("created"),
    }


class ForeignLogError(ReportError):
    """An Inspect log of some other task (no Long-RewardBench provenance): skipped inside a folder."""


def load_log(path: Path, name: str | None = None, *, use_inspect: bool | None = None) -> Run:
    """One :class:`Run` from one Inspect log, every sample rescored and checked."""
    log = read_log(path, use_inspect=use_inspect)
    header = log["eval"]
    if not isinstance((header.get("metadata") or {}).get("longrm"), Mapping):
        raise ForeignLogError(
            f"{path}: not a Long-RewardBench log (task {header.get('task')!r} records no longrm provenance)"
        )
    status = log.get("status")
    if status != "success":
        raise ReportError(f"{path}: the eval's status is {status!r}, not 'success'; report a finished run")
    if ((header.get("config") or {}).get("epochs") or 1) != 1:
        raise ReportError(
            f"{path}: {header['config']['epochs']} epochs; Long-RewardBench runs are one greedy pass"
        )
    samples = log.get("samples") or []
    if not samples:
        raise ReportError(f"{path}: the log holds no samples (run inspect eval with sample logging on)")
    label = name or str(header.get("model") or "unknown")
    records, scorers = [], set()
    for position, sample in enumerate(samples):
        if not isinstance(sample, Mapping):
            raise ReportError(f"{path}: sample {position} is not an object")
        where = f"{label}: {path.name}, sample {sample.get('id', position)!r}"
        record, scorer, _ = _record(sample, where)
        records.append(record)
        scorers.add(scorer)
    if len(scorers) != 1:
        raise ReportError(f"{path}: samples are scored by different scorers {sorted(scorers)}")
    completed = (log.get("results") or {}).get("completed_samples")
    if completed is not None and completed != len(records):
        raise ReportError(f"{label}: the log says {completed} samples completed, it holds {len(records)}")
    run = Run(
        name=label,
        samples=records,
        source=str(path),
        harness="inspect",
        task=str(header.get("task") or ""),
        harness_aggregates=harness_aggregates(log, scorers.pop()),
        provenance=inspect_provenance(log),
    )
    check_records(run)
    check_against_harness(run)
    return run


def load_inspect(path: str | Path, name: str | None = None, *, use_inspect: bool | None = None) -> list[Run]:
    """One :class:`Run` per Inspect log at or below ``path`` (a log file or a folder of logs)."""
    path = Path(path)
    files = log_files(path) if path.exists() else []
    if not files:
        raise ReportError(f"{path}: no Inspect log (.eval or .json) found")
    if len(files) == 1:
        return [load_log(files[0], name, use_inspect=use_inspect)]
    runs = []
    for file in files:
        try:
            runs.append(load_log(file, name, use_inspect=use_inspect))
        except ForeignLogError:
            continue  # another benchmark's log in the same folder
    if not runs:
        raise ReportError(f"{path}: none of its {len(files)} Inspect logs is a Long-RewardBench run")
    if len(runs) > 1:
        for run in runs:
            run.name = f"{run.name} [{run.task}]"
    return runs
