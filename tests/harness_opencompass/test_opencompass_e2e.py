"""End to end through the real ``opencompass`` CLI (subprocess mode), offline.

- config-file mode (``opencompass eval.py``, the shipped configs imported with ``read_base()``): a
  scripted judge behind an OpenAI-compatible endpoint on 127.0.0.1 (``OpenAISDK``), three datasets
  (both formats; pairwise + best-of-N); and a tiny scalar reward model (``LongRMRewardModel``);
- ``--datasets/--summarizer --config-dir`` mode with a tiny HF chat model given by ``--hf-path``;
- cross-harness parity: the same scripted judge through the ``lm_eval`` CLI gives the same figures, and
  through ``inspect eval`` too where Inspect AI is installed next to OpenCompass (the three-harness test;
  ``EXTRAS=opencompass,inspect bash scripts/opencompass_venv.sh``, as CI builds this venv).

OpenCompass exits 0 even when a task fails, so every test reads the result files and checks that no
summary cell is ``-``. Expected values come from ``spec_reference`` (spec-derived, package-free).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opencompass")

from support import spec_reference as ref
from support.scripted_judge import ScriptedJudge
from support.subprocesses import executable, offline_env
from support.tiny_models import build_tiny_llama

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 900
JUDGE = ref.ReferenceJudge()
ROWS, BY_TEXTS, REPLIES = JUDGE.rows, JUDGE.by_texts, JUDGE.replies
TINY_REPLY = "[[A]]"
SPLIT = ("longrewardbench_pairwise_sample", "longrewardbench_bon_sample")
FORMATS = {
    "longrewardbench_sample": ("PairWise", "BestOfN"),
    "longrewardbench_pairwise_sample": ("PairWise",),
    "longrewardbench_bon_sample": ("BestOfN",),
}


def environment() -> dict[str, str]:
    return offline_env(("LONGRM_",), OMP_NUM_THREADS="1")  # two workers on two cores; more threads contend


@dataclass
class OCRun:
    """Files of one finished ``opencompass`` run."""

    folder: Path
    log: str
    seconds: float
    results: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    predictions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    summary: list[list[str]] = field(default_factory=list)
    paper_tables: str = ""


def invoke_opencompass(workdir: Path, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """``opencompass ARGS -w out`` in subprocess mode (no ``--debug``), in ``workdir``."""
    return subprocess.run(
        [executable("opencompass"), *args, "-w", "out"],
        cwd=workdir,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def run_opencompass(workdir: Path, args: Sequence[str]) -> OCRun:
    """Run ``opencompass`` in subprocess mode (no ``--debug``) and load what it wrote."""
    started = time.monotonic()
    proc = invoke_opencompass(workdir, args)
    seconds = time.monotonic() - started
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"opencompass failed ({proc.returncode}):\n{log[-6000:]}"
    (folder,) = sorted((workdir / "out").iterdir())
    run = OCRun(folder=folder, log=log, seconds=seconds)
    for path in sorted(folder.glob("results/*/*.json")):
        run.results[(path.parent.name, path.stem)] = json.loads(path.read_text("utf-8"))
    parts: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    for path in folder.glob("predictions/*/*.json"):  # a dataset split across workers: <abbr>_<k>.json
        stem, _, part = path.stem.rpartition("_")
        key, number = (
            ((path.parent.name, stem), int(part)) if part.isdigit() else ((path.parent.name, path.stem), 0)
        )
        parts.setdefault(key, []).append((number, path))
    for key, files in parts.items():
        entries = []
        for _, path in sorted(files):
            content = json.loads(path.read_text("utf-8"))
            entries += [content[index] for index in sorted(content, key=int)]
        run.predictions[key] = {str(index): entry for index, entry in enumerate(entries)}
    # The latest summary: a run resumed with -r writes one more next to the interrupted run's.
    summary = sorted(folder.glob("summary/summary_*.csv"))[-1]
    run.summary = list(csv.reader(summary.read_text("utf-8").splitlines()))
    tables = sorted(folder.glob("summary/paper_tables_*.md"))[-1]
    run.paper_tables = tables.read_text("utf-8")
    print(f"opencompass {' '.join(args)}: {seconds:.1f} s")
    return run


def failed_task_logs(run: OCRun) -> str:
    return "\n".join(path.read_text("utf-8")[-3000:] for path in run.folder.glob("logs/*/*/*.out"))


def check_complete(run: OCRun, models: Sequence[str], datasets: Sequence[str]) -> None:
    """Every (model, dataset) has its result file, and no summary or paper-table cell is ``-``."""
    expected = {(model, dataset) for model in models for dataset in datasets}
    assert set(run.results) == expected, (
        f"missing results {expected - set(run.results)}:\n{failed_task_logs(run)}"
    )
    for key, result in run.results.items():
        assert "error" not in result, (key, result["error"])
    header, *rows = run.summary
    assert header[4:] == list(models)
    assert rows, "empty summary"
    # A '-' value means a failed task; groups have no prompt version ('-' there is OpenCompass's own).
    bad = [row for row in rows if "-" in [row[0], *row[2:]] or (row[1] == "-" and row[0] in datasets)]
    assert not bad, f"summary cells with '-': {bad}\n{failed_task_logs(run)}"
    assert {row[0] for row in rows} >= set(datasets)
    table_rows = [
        line for line in run.paper_tables.splitlines() if line.startswith("| ") and "---" not in line
    ]
    assert table_rows and not [line for line in table_rows if "| - |" in line or line.endswith("| - |")]


def summary_value(run: OCRun, dataset: str, metric: str, model: str) -> float:
    header, *rows = run.summary
    (row,) = [row for row in rows if row[0] == dataset and row[2] == metric]
    return float(row[header.index(model)])


def assert_figures(result: dict[str, Any], expected: dict[str, float], label: str) -> None:
    bad = {
        key: (result.get(key), value * 100)
        for key, value in expected.items()
        if key in result and result[key] != pytest.approx(value * 100, abs=1e-9)
    }
    assert not bad, f"{label}: (reported, expected) {bad}"


def write_config(workdir: Path, body: str) -> Path:
    """A user config laid out like ``examples/`` next to the repo's ``adapters/`` (relative read_base)."""
    root = workdir / "cfg"
    (root / "examples").mkdir(parents=True)
    (root / "adapters").symlink_to(REPO / "adapters", target_is_directory=True)
    path = root / "examples" / "eval_test.py"
    path.write_text(body, "utf-8")
    return path


CONFIG = """
from mmengine.config import read_base
from opencompass.models import OpenAISDK

with read_base():
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_sample_gen import (
        longrewardbench_sample_datasets,
    )
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_pairwise_sample_gen import (
        longrewardbench_pairwise_sample_datasets,
    )
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_bon_sample_gen import (
        longrewardbench_bon_sample_datasets,
    )
    from ..adapters.opencompass.configs.common.longrm_judge import judge_meta_template
    from ..adapters.opencompass.configs.summarizers.longrewardbench import summarizer

datasets = [
    *longrewardbench_sample_datasets,
    *longrewardbench_pairwise_sample_datasets,
    *longrewardbench_bon_sample_datasets,
]
models = [
    dict(
        type=OpenAISDK,
        abbr="scripted-judge",
        path="scripted-judge",
        key="dummy-key",
        openai_api_base="{base_url}",
        tokenizer_path="{tiny}",
        meta_template=judge_meta_template,
        temperature=0,
        max_seq_len=32768,
        query_per_second=100,
        batch_size=8,
        retry=1,
    ),
]
"""


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-judge", reply=TINY_REPLY)


@dataclass
class ConfigRun:
    run: OCRun
    judge: ScriptedJudge


@pytest.fixture(scope="module")
def config_run(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> ConfigRun:
    workdir = tmp_path_factory.mktemp("config-run")
    judge = ScriptedJudge(JUDGE, model_name="scripted-judge")
    with judge as base_url:
        config = write_config(workdir, CONFIG.format(base_url=base_url, tiny=tiny_model))
        run = run_opencompass(workdir, [str(config), "--max-num-workers", "2"])
    assert not judge.errors, judge.errors
    return ConfigRun(run, judge)


def test_config_run_scripted_judge_exact_figures(config_run: ConfigRun) -> None:
    run, judge = config_run.run, config_run.judge
    check_complete(run, ["scripted-judge"], [*FORMATS])
    # Requests: one per row and dataset, official order, exact prompts, greedy, 2,048 new tokens.
    # The OpenAI client may resend a request whose connection a loaded machine dropped; it says so.
    first_tries = [r for r in judge.requests if r.headers.get("x-stainless-retry-count", "0") == "0"]
    assert len(first_tries) == 2 * len(ROWS)
    for request in judge.requests:
        row = BY_TEXTS[frozenset(request.slots)]
        assert tuple(request.slots) == row.presented, f"{row.uid}: presentation order differs"
        messages = request.body["messages"]
        assert [m["role"] for m in messages] == ["system", "user"], row.uid
        assert messages[0]["content"] == ref.expected_system(row.tasktype, row.n), row.uid
        assert messages[1]["content"] == ref.expected_user(row.question, row.presented), row.uid
        assert request.body["max_tokens"] == 2048
        assert request.body["temperature"] == 0
        assert not request.body.get("stop")
    for dataset, formats in FORMATS.items():
        rows = [row for row in ROWS if row.tasktype in formats]
        result = run.results[("scripted-judge", dataset)]
        expected = ref.expected_metrics(rows, REPLIES)
        assert_figures(result, expected, dataset)
        assert result["truncated"] == result["trunc_unchecked"] == 0 and "cut_to_fit" not in result
        assert [detail["uid"] for detail in result["details"]] == [row.uid for row in rows]
        assert [detail["prediction"] for detail in result["details"]] == [REPLIES[row.uid] for row in rows]
        assert result["longrm"]["samples"] == len(rows)
        assert result["longrm"]["data"]["source"] == "bundled-sample"
        predictions = run.predictions[("scripted-judge", dataset)]
        assert {entry["longrm"]["system_placement"] for entry in predictions.values()} == {"system"}
        for metric in ("avg", "parse_fail"):
            assert summary_value(run, dataset, metric, "scripted-judge") == pytest.approx(
                round(expected[metric] * 100, 2)
            )
    # AVG of the pairwise + best-of-N datasets is the micro mean: the both-format avg.
    both = run.results[("scripted-judge", "longrewardbench_sample")]["avg"]
    split = summary_value(run, "longrewardbench_split_sample", "weighted_average", "scripted-judge")
    assert split == pytest.approx(round(both, 2))
    unweighted = sum(run.results[("scripted-judge", d)]["avg"] for d in SPLIT) / 2
    assert abs(unweighted - both) > 0.01, "pick a policy mix where micro and macro means differ"
    # The paper tables show the same figures.
    expected = ref.expected_metrics(ROWS, REPLIES)
    line = next(
        line
        for line in run.paper_tables.split("Long-RewardBench sample, Table 1")[1].splitlines()
        if line.startswith("| scripted-judge |")
    )
    cells = [cell.strip() for cell in line.strip("|").split("|")][1:]
    keys = [f"task_{t.lower()}" for t in ref.TASK_FILES] + ["rank2", "rank3", "rank4", "avg"]
    assert cells == [f"{expected[key] * 100:.1f}" for key in keys]


def test_cli_form_with_config_dir_and_hf_path(tmp_path: Path, tiny_model: Path) -> None:
    config_dir = subprocess.run(
        [sys.executable, "-m", "longrm_tasks.adapters.opencompass", "config-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    run = run_opencompass(
        tmp_path,
        [
            "--config-dir", config_dir,
            "--datasets", "longrewardbench_sample_gen",
            "--summarizer", "longrewardbench",
            "--hf-type", "chat", "--hf-path", str(tiny_model), "--hf-num-gpus", "0",
            "--max-seq-len", "8192", "--batch-size", "16",
        ],
    )  # fmt: skip
    (model,) = {key[0] for key in run.results}
    check_complete(run, [model], ["longrewardbench_sample"])
    predictions = run.predictions[(model, "longrewardbench_sample")]
    # The default HF meta template would merge the instructions into the user turn; the inferencer
    # sends a real system message anyway.
    assert {entry["longrm"]["system_placement"] for entry in predictions.values()} == {"system"}
    first = next(iter(predictions.values()))["origin_prompt"]
    assert [item["role"] for item in first] == ["SYSTEM", "HUMAN"]
    replies = dict.fromkeys(REPLIES, TINY_REPLY)
    assert_figures(run.results[(model, "longrewardbench_sample")], ref.expected_metrics(ROWS, replies), "cli")


@pytest.fixture(scope="module")
def lm_eval_figures(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> dict[str, float]:
    """The same scripted judge through the ``lm_eval`` CLI (tokenizer given: parity truncation checked)."""
    pytest.importorskip("tenacity")  # lm-eval's API backends
    workdir = tmp_path_factory.mktemp("lm-eval")
    judge = ScriptedJudge(JUDGE, model_name="scripted-judge")
    with judge as base_url:
        model_args = (
            f"model=scripted-judge,base_url={base_url}/chat/completions,num_concurrent=1,max_retries=1,"
            f"tokenized_requests=False,tokenizer={tiny_model}"
        )
        proc = subprocess.run(
            [
                executable("lm_eval"), "--model", "local-chat-completions", "--model_args", model_args,
                "--tasks", "longrewardbench_sample", "--apply_chat_template", "--output_path", "lm",
            ],
            cwd=workdir, env=environment(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            check=False,
        )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    (path,) = workdir.glob("lm/*/results_*.json")
    lm = json.loads(path.read_text("utf-8"))["results"]["longrewardbench_sample"]
    return {
        key.split(",")[0]: value
        for key, value in lm.items()
        if key.endswith(",none") and not key.endswith("_stderr,none")
    }


def test_cross_harness_parity_through_both_clis(
    config_run: ConfigRun, lm_eval_figures: dict[str, float]
) -> None:
    """The same scripted judge through ``lm_eval``: identical figures for every metric lm-eval reports."""
    oc = config_run.run.results[("scripted-judge", "longrewardbench_sample")]
    assert set(lm_eval_figures) == {key for key in oc if key not in ("details", "longrm")}
    mismatches = {
        key: (oc[key], value * 100) for key, value in lm_eval_figures.items() if oc[key] != value * 100
    }
    assert not mismatches, f"OpenCompass vs lm-eval x100: {mismatches}"


def test_three_harness_parity_through_every_cli(
    config_run: ConfigRun, lm_eval_figures: dict[str, float], tmp_path: Path, tiny_model: Path
) -> None:
    """``opencompass``, ``lm_eval`` and ``inspect eval``: the same scripted judge, the same tokenizer, the
    same requests, identical figures for every metric (OpenCompass reports them x100)."""
    pytest.importorskip("inspect_ai")
    from inspect_ai.log import read_eval_log
    from support.inspect_runs import run_cli

    log, judge, proc = run_cli(tmp_path, JUDGE, task_args={"tokenizer": tiny_model})
    assert proc.returncode == 0 and log is not None and not judge.errors, (proc.stdout + proc.stderr)[-6000:]
    (score,) = read_eval_log(str(log)).results.scores
    inspect = {key: metric.value for key, metric in score.metrics.items()}
    oc = config_run.run.results[("scripted-judge", "longrewardbench_sample")]
    assert set(inspect) == set(lm_eval_figures) == {key for key in oc if key not in ("details", "longrm")}
    assert {key: value for key, value in inspect.items() if value != lm_eval_figures[key]} == {}
    assert {key: value for key, value in inspect.items() if value * 100 != oc[key]} == {}
    assert_figures(oc, ref.expected_metrics(ROWS, REPLIES), "three harnesses")
    # The judge saw what OpenCompass sent: the same messages and generation settings for every row.
    sent = {BY_TEXTS[frozenset(r.slots)].uid: r.body for r in judge.requests}
    oc_sent = {BY_TEXTS[frozenset(r.slots)].uid: r.body for r in config_run.judge.requests}
    assert set(sent) == set(oc_sent) == {row.uid for row in ROWS}
    for uid, body in sent.items():
        assert body["messages"] == oc_sent[uid]["messages"], uid
        assert (body["max_tokens"], body["temperature"]) == (2048, 0), uid


RM_CONFIG = """
from mmengine.config import read_base

from longrm_tasks.adapters.opencompass.models import LongRMRewardModel

with read_base():
    from ..adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_sample_rm import (
        longrewardbench_sample_rm_datasets,
    )
    from ..adapters.opencompass.configs.summarizers.longrewardbench import summarizer

datasets = [*longrewardbench_sample_rm_datasets]
models = [dict(type=LongRMRewardModel, abbr="tiny-rm", path="{rm}", batch_size=1, run_cfg=dict(num_gpus=0))]
"""


def test_scalar_reward_model_run_and_parity_with_lm_eval(tmp_path: Path) -> None:
    """``LongRMRewardModel`` in a config run: rewards as spec §5 computed by hand, figures from them, and
    the same figures as the lm-eval ``*_rm`` task gives for those rewards."""
    from support.tiny_models import build_tiny_reward_model, plain_rewards

    rm = build_tiny_reward_model(tmp_path / "tiny-rm")
    config = write_config(tmp_path / "oc", RM_CONFIG.format(rm=rm))
    run = run_opencompass(tmp_path / "oc", [str(config)])
    check_complete(run, ["tiny-rm"], ["longrewardbench_sample_rm"])
    result = run.results[("tiny-rm", "longrewardbench_sample_rm")]
    templates = {}
    for task_file in ref.TASK_FILES:
        lines = (ref.SAMPLE_DIR / f"{task_file}.jsonl").read_text("utf-8").splitlines()
        for index, line in enumerate(lines):
            templates[f"{task_file}-{index}"] = json.loads(line)["prompt_template"]
    reported = {detail["uid"]: detail["rewards"] for detail in result["details"]}
    assert list(reported) == [row.uid for row in ROWS]
    checked = ROWS[::5]  # spec §5 by hand (each response alone, no prefix sharing) on a subset: slow path
    by_hand = plain_rewards(rm, [(templates[row.uid], list(row.presented)) for row in checked])
    for row, rewards in zip(checked, by_hand, strict=True):
        assert reported[row.uid] == pytest.approx(rewards, abs=1e-4), row.uid
    replies = {}
    for row in ROWS:  # ranks: stable sort by reward, descending (spec §5), written as a verdict
        ranked = sorted(range(row.n), key=lambda slot: -reported[row.uid][slot])
        replies[row.uid] = (
            f"[[{chr(65 + ranked[0])}]]"
            if row.tasktype == "PairWise"
            else "[[" + ">".join(chr(65 + slot) for slot in ranked) + "]]"
        )
    expected = ref.expected_metrics(ROWS, replies)
    assert_figures(result, {key: value for key, value in expected.items() if key in result}, "rm")
    # lm-eval's scalar-RM task on the same rewards (its backend shares the core's RewardScorer).
    pytest.importorskip("lm_eval")
    from support.lm_eval_task import lm_eval_rm_figures

    names, lm_figures = lm_eval_rm_figures({detail["uid"]: detail["rewards"] for detail in result["details"]})
    assert set(names) == {key for key in result if key not in ("details", "longrm")}
    mismatches = {
        name: (result[name], lm_figures[name] * 100)
        for name in names
        if result[name] != lm_figures[name] * 100
    }
    assert not mismatches, f"OpenCompass vs lm-eval x100: {mismatches}"


WHEEL_CONFIG = """
from mmengine.config import read_base

with read_base():
    from longrm_tasks.adapters.opencompass.configs.datasets.longrewardbench.longrewardbench_gen import (
        longrewardbench_datasets,
    )
    from longrm_tasks.adapters.opencompass.configs.common.longrm_judge import judge_meta_template
    from longrm_tasks.adapters.opencompass.configs.summarizers.longrewardbench import summarizer

datasets = [*longrewardbench_datasets]
"""


def test_wheel_layout_resolves_absolute_read_base_imports(tmp_path: Path) -> None:
    """The README's form for an installed package: ``read_base()`` imports by module name (mmengine
    resolves them to files under the installed package, which only the wheel layout has)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(tmp_path / "wheel")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("longrm_tasks-*.whl")
    shutil.unpack_archive(wheel, tmp_path / "site", format="zip")
    config = tmp_path / "eval_installed.py"
    config.write_text(WHEEL_CONFIG, "utf-8")
    probe = (
        "import json, sys; from mmengine.config import Config; import longrm_tasks; "
        "c = Config.fromfile(sys.argv[1], format_python_code=False); "
        "print(json.dumps([longrm_tasks.__file__, c.datasets[0]['abbr'], str(c.summarizer['type'])]))"
    )
    env = {**environment(), "PYTHONPATH": str(tmp_path / "site")}
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(config)],
        cwd=tmp_path,  # not the checkout: its longrm_tasks would shadow the wheel's
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    origin, abbr, summarizer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert origin.startswith(str(tmp_path / "site")) and abbr == "longrewardbench"
    assert summarizer.endswith("LongRewardBenchSummarizer'>")


def test_editable_install_resolves_absolute_read_base_imports(tmp_path: Path) -> None:
    """The same user config, outside the checkout, under the editable install of this checkout that
    ``scripts/opencompass_venv.sh`` makes: mmengine finds the shipped configs as files under the package
    (an editable install maps ``longrm_tasks`` exactly, with ``adapters/`` inside it)."""
    import importlib.util

    spec = importlib.util.find_spec("longrm_tasks")
    assert spec is not None and spec.origin is not None
    if not Path(spec.origin).resolve().is_relative_to(REPO):
        pytest.skip("longrm_tasks is not installed in editable mode from this checkout")
    config = tmp_path / "eval_installed.py"
    config.write_text(WHEEL_CONFIG, "utf-8")
    probe = (
        "import json, sys; from mmengine.config import Config; import longrm_tasks; "
        "c = Config.fromfile(sys.argv[1], format_python_code=False); "
        "print(json.dumps([longrm_tasks.__file__, c.datasets[0]['abbr'], str(c.summarizer['type'])]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(config)],
        cwd=tmp_path,  # not the checkout, so only the installed package can be found
        capture_output=True,
        text=True,
        env=environment(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    origin, abbr, summarizer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(origin).resolve() == REPO / "longrm_tasks" / "__init__.py" and abbr == "longrewardbench"
    assert summarizer.endswith("LongRewardBenchSummarizer'>")
