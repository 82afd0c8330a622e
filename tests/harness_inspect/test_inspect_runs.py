"""Reports read Inspect AI logs: both log formats, both readers, every sample rescored, tampering refused.

The logs come from real ``inspect_ai.eval`` runs of the ``longrewardbench_sample`` task against a
scripted OpenAI-compatible judge on 127.0.0.1. Expected figures are computed here from the spec (§4
parsing of the scripted verdicts, §7 rank-match ratio), independently of the core's parser and scorer.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai.log import read_eval_log, write_eval_log
from support.inspect_runs import run_task

from longrm_tasks.adapters.inspect import tasks
from longrm_tasks.results.inspect_runs import is_inspect_log, load_inspect
from longrm_tasks.results.records import ReportError

pytestmark = pytest.mark.slow
SILENT = "I have no opinion on these answers."


def policy(slots: list[str], messages: list[dict[str, Any]]) -> str:
    """Always the presented order ("[[A]]", "[[A>B]]", "[[A>B>C>D]]"); silent on every best-of-3 row."""
    system = next(message["content"] for message in messages if message["role"] == "system")
    if '"[[A]]"' in system:  # only the pairwise instructions name this verdict (spec §3)
        return "Looks right.\n[[A]]"
    return SILENT if len(slots) == 3 else "[Ranking]\n[[" + ">".join("ABCD"[: len(slots)]) + "]]"


def expected_score(doc: dict[str, Any]) -> float:
    """Spec §7 for this policy: slot p is ranked p, so the score is the share of slots with order[p] == p."""
    order = doc["order"]
    if doc["tasktype"] == "BestOfN" and len(order) == 3:
        return 0.0  # unparsed
    return sum(rank == slot for slot, rank in enumerate(order)) / len(order)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("inspect-logs")
    logs = {}
    for fmt in ("eval", "json"):
        log, judge = run_task(tasks.longrewardbench_sample, base / fmt, policy, log_format=fmt)
        assert log.status == "success" and not judge.errors
        logs[fmt] = Path(log.location)
    return logs


def docs_of(path: Path) -> list[dict[str, Any]]:
    return [dict(sample.metadata) for sample in read_eval_log(str(path)).samples]


def tampered(path: Path, tmp_path: Path, change: Any) -> Path:
    """A copy of the log, changed through Inspect's own log API (so the file itself stays valid)."""
    log = read_eval_log(str(path))
    change(log)
    target = tmp_path / path.name
    write_eval_log(log, str(target))
    return target


@pytest.mark.parametrize("fmt", ["eval", "json"])
@pytest.mark.parametrize("use_inspect", [True, False], ids=["inspect-reader", "plain-reader"])
def test_logs_load_with_the_figures_the_spec_gives(
    logs: dict[str, Path], fmt: str, use_inspect: bool
) -> None:
    (run,) = load_inspect(logs[fmt], use_inspect=use_inspect)
    docs = docs_of(logs[fmt])
    assert len(run.samples) == len(docs) == 62
    figures = run.aggregates()
    assert figures["avg"] == pytest.approx(fmean(expected_score(doc) for doc in docs), abs=1e-12)
    pairwise = [doc for doc in docs if doc["tasktype"] == "PairWise"]
    assert figures["pairwise_avg"] == pytest.approx(fmean(expected_score(doc) for doc in pairwise), abs=1e-12)
    bo3 = [doc for doc in docs if doc["tasktype"] == "BestOfN" and len(doc["order"]) == 3]
    assert figures["parse_fail"] == pytest.approx(len(bo3) / len(docs), abs=1e-12) and figures["rank3"] == 0.0
    buckets = {doc["length_bucket"] for doc in pairwise}
    by_bucket = [fmean(expected_score(d) for d in pairwise if d["length_bucket"] == b) for b in buckets]
    assert figures["len_avg"] == pytest.approx(sum(by_bucket) / 6, abs=1e-12)  # empty buckets count 0
    # Inspect's own aggregates were all read back (every figure but context_cut, which only
    # context-only runs report), and they equal the rescored ones.
    assert set(run.harness_aggregates) == set(figures) - {"context_cut"}
    assert run.harness_aggregates == pytest.approx({k: figures[k] for k in run.harness_aggregates}, abs=1e-12)
    assert run.harness == "inspect" and run.task == "longrm_tasks/longrewardbench_sample"
    assert run.provenance["prompt_set"] == "longrm-official-v1" and run.provenance["backend"] == "openai-api"
    assert run.provenance["generation_config"]["temperature"] == 0


def test_the_plain_reader_reads_what_inspect_reads(logs: dict[str, Path]) -> None:
    for path in logs.values():
        (ours,) = load_inspect(path, use_inspect=False)
        (theirs,) = load_inspect(path, use_inspect=True)
        assert sorted(ours.samples, key=lambda r: r.key) == sorted(theirs.samples, key=lambda r: r.key)
        assert ours.harness_aggregates == theirs.harness_aggregates
        assert ours.provenance == theirs.provenance


def test_is_inspect_log(logs: dict[str, Path], tmp_path: Path) -> None:
    assert (
        is_inspect_log(logs["eval"]) and is_inspect_log(logs["json"]) and is_inspect_log(logs["eval"].parent)
    )
    lm_eval_results = tmp_path / "results_2026.json"
    lm_eval_results.write_text(json.dumps({"results": {}, "configs": {}}))
    not_a_zip = tmp_path / "x.eval"
    not_a_zip.write_text("hello")
    assert not any(is_inspect_log(p) for p in (lm_eval_results, not_a_zip, tmp_path / "missing.json"))


def _set_sample_value(key: str, value: Any) -> Any:
    """Change one logged per-sample value of the first pairwise sample."""

    def change(log: Any) -> None:
        sample = next(sample for sample in log.samples if sample.metadata["tasktype"] == "PairWise")
        sample.scores["longrm_verdict"].value[key] = value

    return change


def _set_completion(log: Any) -> None:
    log.samples[0].output.completion = "[[B]] [[A>B>C>D]]"


def _set_aggregate(log: Any) -> None:
    log.results.scores[0].metrics["task_cite"].value += 0.01


def _drop_field(log: Any) -> None:
    del log.samples[1].metadata["order"]


def _fail(log: Any) -> None:
    log.status = "error"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set_sample_value("avg", 0.5), r"logged avg 0\.5 but the response rescores to"),
        (_set_sample_value("rank4", 1.0), r"logged rank4 1\.0 but the response rescores to None"),
        (_set_sample_value("parse_fail", 1.0), r"logged parse_fail 1\.0 but the response rescores to 0\.0"),
        (_set_completion, r"logged \w+ .* but the response rescores to"),
        (_set_aggregate, r"do not reproduce the harness aggregates \(task_cite: harness"),
        (_drop_field, r"sample '[\w-]+': metadata lacks field 'order'"),
        (_fail, r"status is 'error', not 'success'"),
    ],
    ids=["sample-avg", "sample-subset", "sample-parse-fail", "completion", "aggregate", "field", "status"],
)
@pytest.mark.parametrize("fmt", ["eval", "json"])
@pytest.mark.parametrize("use_inspect", [True, False], ids=["inspect-reader", "plain-reader"])
def test_tampered_logs_are_refused(
    logs: dict[str, Path], tmp_path: Path, fmt: str, use_inspect: bool, change: Any, message: str
) -> None:
    path = tampered(logs[fmt], tmp_path, change)
    with pytest.raises(ReportError, match=message) as refused:
        load_inspect(path, use_inspect=use_inspect)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("use_inspect", [True, False], ids=["inspect-reader", "plain-reader"])
def test_broken_files_give_one_line_errors(logs: dict[str, Path], tmp_path: Path, use_inspect: bool) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes(logs["json"].read_bytes()[:5000])
    with pytest.raises(ReportError, match=r"cut\.json: not a readable Inspect log") as refused:
        load_inspect(cut, use_inspect=use_inspect)
    assert "\n" not in str(refused.value)
    with pytest.raises(ReportError, match="no Inspect log"):
        load_inspect(tmp_path / "empty", use_inspect=use_inspect)


def test_an_unfinished_archive_is_refused_by_the_plain_reader(logs: dict[str, Path], tmp_path: Path) -> None:
    partial = tmp_path / "partial.eval"
    with zipfile.ZipFile(logs["eval"]) as source, zipfile.ZipFile(partial, "w") as target:
        for info in source.infolist():
            if info.filename != "header.json":
                target.writestr(info.filename, b"{}")
    with pytest.raises(ReportError, match=r"partial\.eval: no header\.json in the archive"):
        load_inspect(partial, use_inspect=False)


def test_plain_reader_without_zstandard_says_what_to_install(
    logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "zstandard", None)  # makes `import zstandard` fail
    with pytest.raises(ReportError, match=r"zstd-compressed; install inspect-ai \(or zstandard\)"):
        load_inspect(logs["eval"], use_inspect=False)
    (run,) = load_inspect(logs["json"], use_inspect=False)  # JSON logs need nothing beyond the stdlib
    assert len(run.samples) == 62


def test_folders_skip_other_benchmarks_logs(logs: dict[str, Path], tmp_path: Path) -> None:
    """An Inspect log folder holds every eval run there; only Long-RewardBench logs are read."""
    from inspect_ai import Task, eval
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import get_model
    from inspect_ai.solver import generate
    from support.scripted_judge import ScriptedJudge

    folder = tmp_path / "logs"
    with ScriptedJudge(lambda slots, messages: "hello") as base_url:
        model = get_model("openai-api/scripted/other", base_url=base_url, api_key="none", memoize=False)
        dataset = MemoryDataset([Sample(input="hi", target="hello")])
        other = Task(dataset=dataset, solver=generate(), name="other")
        (log,) = eval(other, model=model, log_dir=str(folder), display="none")
    assert log.status == "success"
    with pytest.raises(ReportError, match=r"not a Long-RewardBench log \(task 'other' records no longrm"):
        load_inspect(Path(log.location))
    (folder / logs["eval"].name).write_bytes(logs["eval"].read_bytes())
    (run,) = load_inspect(folder)
    assert run.task == "longrm_tasks/longrewardbench_sample" and len(run.samples) == 62
