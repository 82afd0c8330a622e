"""Inspect and lm-eval agree: the same scripted judge through the ``inspect eval`` and ``lm_eval`` CLIs
gives the same requests and identical figures, and the ``longrm`` tools read both runs alike.

Both harnesses are given the judge's tokenizer (parity truncation checked), so every figure, the
run-health shares included, must be equal to the last bit; both must also equal the spec oracle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inspect_ai")
pytest.importorskip("tenacity")  # lm-eval's API backends

from support import spec_reference as ref
from support.inspect_runs import run_cli
from support.report_runs import run_lm_eval
from support.scripted_judge import ScriptedJudge
from support.tiny_models import save_sample_tokenizer

from longrm_tasks.cli import main as longrm
from longrm_tasks.results.loaders import load_runs

pytestmark = pytest.mark.slow

JUDGE = ref.ReferenceJudge()
TASK = "longrewardbench_sample"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("parity")
    tokenizer = save_sample_tokenizer(base / "tokenizer")
    lm_judge = ScriptedJudge(JUDGE, model_name="scripted-judge")
    lm_dir = run_lm_eval(base / "lm", lm_judge, task=TASK, extra_model_args=f"tokenizer={tokenizer}")
    (base / "inspect").mkdir()
    log, inspect_judge, proc = run_cli(base / "inspect", JUDGE, task=TASK, task_args={"tokenizer": tokenizer})
    assert proc.returncode == 0 and log is not None, (proc.stdout + proc.stderr)[-6000:]
    return {"lm_dir": lm_dir, "lm_judge": lm_judge, "log": log, "inspect_judge": inspect_judge, "base": base}


def lm_eval_figures(lm_dir: Path) -> dict[str, float]:
    (path,) = lm_dir.glob("results_*.json")
    reported = json.loads(path.read_text("utf-8"))["results"][TASK]
    return {
        key.split(",")[0]: value
        for key, value in reported.items()
        if key.endswith(",none") and not key.endswith("_stderr,none")
    }


def test_same_requests_through_both_clis(runs: dict[str, Any]) -> None:
    def by_row(judge: Any) -> dict[str, tuple[Any, ...]]:
        sent = {}
        for request in judge.requests:
            body = request.body
            sent[JUDGE.row(request.slots).uid] = (body["messages"], body["max_tokens"], body["temperature"])
        assert len(sent) == len(judge.requests) == len(JUDGE.rows)
        return sent

    assert by_row(runs["inspect_judge"]) == by_row(runs["lm_judge"])


def test_identical_figures_for_every_metric(runs: dict[str, Any]) -> None:
    from inspect_ai.log import read_eval_log

    lm = lm_eval_figures(runs["lm_dir"])
    (score,) = read_eval_log(str(runs["log"])).results.scores
    inspect = {key: metric.value for key, metric in score.metrics.items()}
    assert set(inspect) == set(lm)
    assert {key: value for key, value in inspect.items() if value != lm[key]} == {}, "Inspect vs lm-eval"
    expected = JUDGE.expected()
    assert {key: lm[key] for key in expected} == pytest.approx(expected, abs=1e-12)
    assert lm["trunc_unchecked"] == lm["truncated"] == 0.0  # both checked parity truncation


def test_reports_read_both_runs_alike(runs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    (lm,) = load_runs(runs["lm_dir"])
    (inspect,) = load_runs(runs["log"])
    (folder,) = load_runs(runs["log"].parent)
    assert inspect.harness == "inspect" and lm.harness == "lm-eval"
    assert sorted(inspect.samples, key=lambda r: r.key) == sorted(lm.samples, key=lambda r: r.key)
    assert inspect.aggregates() == lm.aggregates() and folder.aggregates() == inspect.aggregates()
    assert inspect.provenance["prompt_set_sha256"] == lm.provenance["prompt_set_sha256"]
    assert inspect.provenance["data_files_sha256"] == lm.provenance["data_files_sha256"]

    base = runs["base"]
    assert longrm(["compare", str(runs["log"]), str(runs["lm_dir"]), "--json", str(base / "cmp.json")]) == 0
    rows = json.loads((base / "cmp.json").read_text("utf-8"))["rows"]
    assert rows and all(row["difference"] == 0 and not row["significant"] for row in rows)
    assert longrm(["report", str(runs["log"]), "--out", str(base / "report"), "--no-plots"]) == 0
    assert "Long-RewardBench" in (base / "report" / "report.md").read_text("utf-8")
    for name, source in (("inspect", runs["log"]), ("lm", runs["lm_dir"])):
        assert longrm(["submission", str(source), "--out", str(base / f"{name}.json")]) == 0
    documents = [json.loads((base / f"{name}.json").read_text("utf-8")) for name in ("inspect", "lm")]
    assert documents[0]["samples"] == documents[1]["samples"]
    assert documents[0]["aggregates"] == documents[1]["aggregates"]
    assert documents[0]["provenance"]["harness"] == "inspect"
    capsys.readouterr()
