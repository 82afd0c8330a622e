"""The Long-RewardBench Inspect tasks, end to end against scripted judges on 127.0.0.1 (offline).

Expectations are independent of the package: rows, presentation orders and prompts come from the raw
sample files and the spec (``support.spec_reference``), the judge's reply for each row is fixed by a
round-robin of policies, and every figure is computed from the spec (§4 parsing, §7 scoring). The judge
only knows a row through the responses it is shown, so a wrong order, prompt, parser or reducer in the
package shows up as a mismatch. Prompt texts per chat template are written out in
``support.chat_templates``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from support import spec_reference as ref
from support.chat_templates import expected_messages, expected_prompt, save_with_templates
from support.inspect_runs import CLI_TIMEOUT_S, MODEL, cli_environment, executable, figures, run_cli, run_task
from support.scripted_judge import ScriptedJudge
from support.tiny_models import build_tiny_llama, save_sample_tokenizer

from longrm_tasks.adapters.inspect import tasks
from longrm_tasks.errors import LongRMError
from longrm_tasks.options import OptionError
from longrm_tasks.results.loaders import load_runs
from longrm_tasks.results.submission import build_submission
from longrm_tasks.results.validation import validate_document

pytestmark = pytest.mark.slow

JUDGE = ref.ReferenceJudge()
BOTH = ("PairWise", "BestOfN")
#: The run-health shares every judge task reports beside the paper's columns.
HEALTH = ("parse_fail", "empty_output", "truncated", "trunc_unchecked")


def expected_figures(formats: tuple[str, ...], replies: dict[str, str] | None = None) -> dict[str, float]:
    """Spec figures of the sample rows of ``formats``, restricted to the columns those formats have."""
    rows = [row for row in JUDGE.rows if row.tasktype in formats]
    figures = ref.expected_metrics(rows, replies or JUDGE.replies)
    keys = {"avg", "parse_fail", "empty_output"}
    keys |= ref.PAIRWISE_KEYS if "PairWise" in formats else set()
    keys |= ref.BON_KEYS if "BestOfN" in formats else set()
    return {key: value for key, value in figures.items() if key in keys}


def assert_figures(reported: dict[str, float], expected: dict[str, float]) -> None:
    bad = {
        key: (reported.get(key), value)
        for key, value in expected.items()
        if reported.get(key) != pytest.approx(value, abs=1e-12)
    }
    assert not bad, f"(reported, expected): {bad}"


def request_row(request: Any) -> ref.Row:
    return JUDGE.row(request.slots)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ScriptedJudge]:
    return run_task(tasks.longrewardbench_sample, tmp_path_factory.mktemp("sample"), JUDGE)


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample tokenizer saved once per judge chat-template behaviour."""
    base = tmp_path_factory.mktemp("tokenizers")
    return save_with_templates(save_sample_tokenizer(base / "plain"), base)


def test_sample_task_reports_every_figure_of_the_spec(sample_run: tuple[Any, ScriptedJudge]) -> None:
    log, judge = sample_run
    assert log.status == "success" and not judge.errors
    reported = figures(log)
    expected = expected_figures(BOTH)
    assert set(reported) == {*expected, "truncated", "trunc_unchecked"}
    assert_figures(reported, expected)
    # No tokenizer was named: nothing could be checked for parity truncation, and the run says so.
    assert reported["truncated"] == 0.0 and reported["trunc_unchecked"] == 1.0
    assert 0 < reported["parse_fail"] < 1 and 0 < reported["avg"] < 1


def test_requests_are_the_official_prompts_and_generation_settings(
    sample_run: tuple[Any, ScriptedJudge],
) -> None:
    _, judge = sample_run
    assert sorted(request_row(r).uid for r in judge.requests) == sorted(row.uid for row in JUDGE.rows)
    for request in judge.requests:
        row = request_row(request)
        assert tuple(request.slots) == row.presented, f"{row.uid}: presentation order differs"
        assert request.body["messages"] == [
            {"role": "system", "content": ref.expected_system(row.tasktype, row.n)},
            {"role": "user", "content": ref.expected_user(row.question, row.presented)},
        ], row.uid
        settings = {key: value for key, value in request.body.items() if key not in ("model", "messages")}
        assert settings == {"max_tokens": 2048, "temperature": 0.0}, row.uid  # no stop strings, no extras


def test_samples_and_log_record_rows_and_provenance(sample_run: tuple[Any, ScriptedJudge]) -> None:
    log, _ = sample_run
    by_uid = {row.uid: row for row in JUDGE.rows}
    assert len(log.samples) == len(by_uid)
    for sample in log.samples:
        row, meta = by_uid[sample.id], sample.metadata
        assert (meta["task_file"], meta["row_index"], meta["row_id"]) == (
            row.task_file,
            row.index,
            row.row_id,
        )
        assert (meta["tasktype"], meta["subtype"], meta["length_bucket"]) == (
            row.tasktype,
            row.subtype,
            row.bucket,
        )
        assert meta["order"] == list(row.order) and meta["system_placement"] == "system"
        assert meta["truncation"] == "unchecked" and meta["context_cut"] is False
        assert not {"system_prompt", "user_prompt"} & set(meta)  # the prompt is the sample's input
        assert sample.output.completion == JUDGE.replies[row.uid]
    longrm = log.eval.metadata["longrm"]
    assert longrm["prompt_set"] == "longrm-official-v1" and longrm["order_seed"] == 42
    assert longrm["data"]["source"] == "bundled-sample" and longrm["formats"] == list(BOTH)
    assert longrm["system_placement"] == {"system": len(by_uid)}
    assert (
        longrm["parity_truncation"]
        == "not applied (no tokenizer known (pass -T tokenizer=<the judge's tokenizer>))"
    )
    assert log.eval.task == "longrm_tasks/longrewardbench_sample"
    assert log.plan.config.max_tokens == 2048 and log.plan.config.temperature == 0


@pytest.mark.parametrize(
    ("task", "formats"),
    [
        (tasks.longrewardbench_pairwise_sample, ("PairWise",)),
        (tasks.longrewardbench_bon_sample, ("BestOfN",)),
    ],
    ids=["pairwise", "bon"],
)
def test_format_tasks_report_their_columns(tmp_path: Path, task: Any, formats: tuple[str, ...]) -> None:
    log, judge = run_task(task, tmp_path, JUDGE)
    assert {request_row(r).tasktype for r in judge.requests} == set(formats)
    reported = figures(log)
    expected = expected_figures(formats)
    assert set(reported) == {*expected, "truncated", "trunc_unchecked"}
    assert_figures(reported, expected)


@pytest.mark.parametrize("template", ["accepts", "raises_on_system", "thinking"])
def test_tokenizer_parameter_measures_the_prompt_as_sent(
    tmp_path: Path, tokenizers: dict[str, Path], template: str
) -> None:
    """With ``-T tokenizer=``: parity truncation checked with it, the instructions merged where its
    template refuses a system turn, ``enable_thinking=False`` sent where the template reads it."""
    from transformers import AutoTokenizer

    folder = tokenizers[template]
    log, judge = run_task(
        tasks.longrewardbench_sample, tmp_path, JUDGE, task_args={"tokenizer": str(folder)}, limit=6
    )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    samples = {sample.id: sample for sample in log.samples}
    for request in judge.requests:
        row = request_row(request)
        system, user = (
            ref.expected_system(row.tasktype, row.n),
            ref.expected_user(row.question, row.presented),
        )
        assert request.body["messages"] == expected_messages(template, system, user), row.uid
        if template == "thinking":
            assert request.body["chat_template_kwargs"] == {"enable_thinking": False}
        else:
            assert "chat_template_kwargs" not in request.body
        text = expected_prompt(template, tokenizer, system, user)
        meta = samples[row.uid].metadata
        assert meta["prompt_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest(), row.uid
        # Counted only when a prompt might reach the §6 threshold (these are far below it).
        assert meta["prompt_tokens"] in (None, len(tokenizer(text, add_special_tokens=False)["input_ids"]))
        assert meta["truncation"] == "none"
    reported = figures(log)
    assert reported["trunc_unchecked"] == 0.0 and reported["truncated"] == 0.0
    longrm = log.eval.metadata["longrm"]
    assert longrm["parity_truncation"] == "applied" and longrm["truncation_tokenizer"] == str(folder)
    placement = "merged" if template == "raises_on_system" else "system"
    assert longrm["system_placement"] == {placement: len(JUDGE.rows)}


def test_context_only_truncation_cuts_contexts_to_the_budget(
    tmp_path: Path, tokenizers: dict[str, Path]
) -> None:
    from transformers import AutoTokenizer

    folder, budget = tokenizers["accepts"], 1000
    args = {
        "tokenizer": str(folder),
        "truncation": "context",
        "max_length": 2048 + budget,
        "cache_dir": "off",
    }
    log, judge = run_task(tasks.longrewardbench_pairwise_sample, tmp_path, JUDGE, task_args=args)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    cut = 0
    for request in judge.requests:
        row = request_row(request)
        system, user = request.body["messages"][0]["content"], request.body["messages"][1]["content"]
        full = ref.expected_user(row.question, row.presented)
        assert system == ref.expected_system(row.tasktype, row.n) and tuple(request.slots) == row.presented
        if user != full:  # cut in the middle of the context only: the responses and the question are whole
            cut += 1
            assert user.endswith(full[full.index("\n\n[The Start of Assistant A's Answer]") :])
        text = expected_prompt("accepts", tokenizer, system, user)
        assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= budget
    reported = figures(log)
    assert 0 < cut < len(judge.requests)
    assert reported["context_cut"] == pytest.approx(cut / len(judge.requests), abs=1e-12)
    assert reported["truncated"] == 0.0  # a context cut is not a parity cut
    assert log.eval.metadata["longrm"]["context_truncation"]["budget"] == budget
    # Reports rescore the cut rows as cut; a submission leaves the share out (it has no per-row cut).
    (run,) = load_runs(Path(log.location))
    assert run.aggregates()["context_cut"] == reported["context_cut"]
    document = build_submission(run)
    assert "context_cut" not in document["aggregates"] and validate_document(document).ok


def test_empty_outputs_are_counted_and_stop_strict_runs(tmp_path: Path) -> None:
    def fault(number: int) -> str | None:
        return "null_content" if number == 3 else None

    log, judge = run_task(tasks.longrewardbench_sample, tmp_path / "lenient", JUDGE, fault=fault)
    assert log.status == "success"
    replies = {**JUDGE.replies, request_row(judge.requests[2]).uid: ""}
    assert_figures(figures(log), expected_figures(BOTH, replies))
    assert figures(log)["empty_output"] == pytest.approx(1 / len(JUDGE.rows))

    log, judge = run_task(
        tasks.longrewardbench_sample, tmp_path / "strict", JUDGE, fault=fault, task_args={"strict": "true"}
    )
    assert log.status == "error"
    assert (
        "the judge returned no text" in log.error.message
        and request_row(judge.requests[2]).uid in log.error.message
    )


def test_bad_parameters_are_refused_with_the_option_named(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=r"option 'trust_remote_code' must be a boolean .* got 'maybe'"):
        tasks.longrewardbench_sample(trust_remote_code="maybe")
    with pytest.raises(
        LongRMError, match=r"context truncation needs the model's tokenizer: pass -T tokenizer="
    ):
        tasks.longrewardbench_sample(truncation="context", max_length=8192)


def test_hf_provider_lends_its_tokenizer_and_decodes_greedily(tmp_path: Path) -> None:
    """``hf/``: the task measures prompts with the provider's own tokenizer, and the provider (which
    samples by default, refusing temperature 0) decodes greedily without ``-M do_sample=false``."""
    from inspect_ai import eval
    from inspect_ai.model import get_model

    folder = build_tiny_llama(tmp_path / "tiny-judge", reply="[[A]]")
    model = get_model(
        "hf/tiny-judge", model_path=str(folder), tokenizer_path=str(folder), device="cpu", memoize=False
    )
    (log,) = eval(
        tasks.longrewardbench_pairwise_sample,
        model=model,
        log_dir=str(tmp_path / "logs"),
        display="none",
        limit=4,
    )
    assert log.status == "success", log.error
    assert {sample.output.completion for sample in log.samples} == {"[[A]]"}
    reported = figures(log)
    assert reported["trunc_unchecked"] == 0.0 and reported["parse_fail"] == 0.0
    longrm = log.eval.metadata["longrm"]
    assert longrm["parity_truncation"] == "applied" and longrm["truncation_tokenizer"] == str(folder)
    by_uid = {row.uid: row for row in JUDGE.rows}
    orders = [by_uid[sample.id].order for sample in log.samples]
    assert reported["avg"] == pytest.approx(sum(order[0] == 0 for order in orders) / len(orders))  # [[A]]


def test_inspect_eval_cli_finds_the_tasks_and_prints_every_figure(tmp_path: Path) -> None:
    """The issue's done-criterion: ``inspect eval longrm_tasks/longrewardbench_sample --model <a local
    OpenAI-compatible endpoint>`` prints every figure (found through the package's entry point)."""
    log, judge, proc = run_cli(tmp_path, JUDGE)
    assert proc.returncode == 0 and not judge.errors, (proc.stdout + proc.stderr)[-6000:]
    printed = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in {*ref.PAIRWISE_KEYS, *ref.BON_KEYS, "avg", *HEALTH}:
            printed[parts[0]] = float(parts[1])
    expected = {**expected_figures(BOTH), "truncated": 0.0, "trunc_unchecked": 1.0}
    assert set(printed) == set(expected)
    assert printed == {key: pytest.approx(value, abs=5e-4) for key, value in expected.items()}  # 3 decimals
    assert log is not None and len(judge.requests) == len(JUDGE.rows)


def test_a_bad_parameter_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    env = cli_environment(
        tmp_path / "site", SCRIPTED_BASE_URL="http://127.0.0.1:9/v1", SCRIPTED_API_KEY="none"
    )
    command = [
        executable("inspect"), "eval", "longrm_tasks/longrewardbench_sample", "-T", "truncation=middle",
        "--model", MODEL, "--log-dir", str(tmp_path / "logs"),
    ]  # fmt: skip
    proc = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S
    )
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["longrm-tasks error: option 'truncation' must be one of parity, context, got 'middle'"]
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())


def test_every_task_is_registered_through_the_entry_point(tmp_path: Path) -> None:
    from support.entry_points import declared

    assert declared()["inspect_ai"] == {"longrm_tasks": "longrm_tasks.adapters.inspect.tasks"}
    probe = (
        "import json, sys\nfrom inspect_ai._util.registry import registry_lookup\n"
        "found = {n: registry_lookup('task', f'longrm_tasks/{n}') is not None for n in sys.argv[1:]}\n"
        "print(json.dumps(found))"
    )
    env = cli_environment(tmp_path / "site")
    proc = subprocess.run(
        [sys.executable, "-c", probe, *tasks.TASKS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found == dict.fromkeys(tasks.TASKS, True)
