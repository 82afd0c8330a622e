"""Determinism across OpenCompass workers: the same outputs give identical figures whatever the split.

- a scripted judge with 1 and 2 inference workers (``NumWorkerPartitioner`` splits the dataset);
- the scalar reward model (``LongRMRewardModel``) with 1 and 2 workers;
- a run interrupted mid-way (the judge fails after some requests) and resumed with ``-r`` ends identical
  to an uninterrupted one, and the resumed run sends only the requests that were not answered.

Every comparison is exact: metrics, per-sample details, predictions.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opencompass")

from harness_opencompass.test_opencompass_e2e import (
    CONFIG,
    JUDGE,
    RM_CONFIG,
    RUN_TIMEOUT_S,
    OCRun,
    check_complete,
    environment,
    executable,
    invoke_opencompass,
    run_opencompass,
    write_config,
)
from support.scripted_judge import ScriptedJudge
from support.tiny_models import build_tiny_llama, build_tiny_reward_model

pytestmark = pytest.mark.slow

ROWS = 62
JUDGE_DATASET, RM_DATASET = "longrewardbench_sample", "longrewardbench_sample_rm"
#: The judge config of the end-to-end tests, reduced to the both-format dataset.
ONE_DATASET = CONFIG.replace(
    """datasets = [
    *longrewardbench_sample_datasets,
    *longrewardbench_pairwise_sample_datasets,
    *longrewardbench_bon_sample_datasets,
]""",
    "datasets = [*longrewardbench_sample_datasets]",
)
assert ONE_DATASET != CONFIG


def figures(run: OCRun, model: str, dataset: str) -> dict[str, Any]:
    """The result file without its provenance (which names the run's own files)."""
    result = dict(run.results[(model, dataset)])
    result.pop("longrm", None)
    return result


def predictions(run: OCRun, model: str, dataset: str) -> list[Any]:
    return [entry["prediction"] for entry in run.predictions[(model, dataset)].values()]


@pytest.fixture(scope="module")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_llama(tmp_path_factory.mktemp("tiny") / "tiny-judge")


def judge_run(workdir: Path, tokenizer: Path, workers: int, fault: Any = None, reuse: bool = False) -> tuple:
    judge = ScriptedJudge(JUDGE, model_name="scripted-judge", fault=fault)
    with judge as base_url:
        if not reuse:
            write_config(workdir, ONE_DATASET.format(base_url=base_url, tiny=tokenizer))
        config = workdir / "cfg" / "examples" / "eval_test.py"
        if reuse:  # the judge's port changed: point the saved config at it
            text = config.read_text("utf-8")
            old = text.split('openai_api_base="')[1].split('"')[0]
            config.write_text(text.replace(old, base_url), "utf-8")
        args = [str(config), "--max-num-workers", str(workers), *(["-r"] if reuse else [])]
        if fault is None:
            return run_opencompass(workdir, args), judge
        # A run that fails part-way: OpenCompass still exits 0, but leaves partial files only.
        proc = invoke_opencompass(workdir, args)
        return proc, judge


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer_dir: Path) -> OCRun:
    run, judge = judge_run(tmp_path_factory.mktemp("two"), tiny_tokenizer_dir, 2)
    assert not judge.errors and len(judge.requests) == ROWS
    check_complete(run, ["scripted-judge"], [JUDGE_DATASET])
    # Two workers really split the dataset: two prediction parts.
    parts = sorted(
        path.name for path in run.folder.glob(f"predictions/scripted-judge/{JUDGE_DATASET}_*.json")
    )
    assert parts == [f"{JUDGE_DATASET}_0.json", f"{JUDGE_DATASET}_1.json"], parts
    return run


def test_judge_one_and_two_workers_identical(
    two_workers: OCRun, tmp_path: Path, tiny_tokenizer_dir: Path
) -> None:
    one, judge = judge_run(tmp_path, tiny_tokenizer_dir, 1)
    check_complete(one, ["scripted-judge"], [JUDGE_DATASET])
    assert len(judge.requests) == ROWS
    assert not list(one.folder.glob(f"predictions/scripted-judge/{JUDGE_DATASET}_*.json"))
    assert figures(one, "scripted-judge", JUDGE_DATASET) == figures(
        two_workers, "scripted-judge", JUDGE_DATASET
    )
    assert predictions(one, "scripted-judge", JUDGE_DATASET) == predictions(
        two_workers, "scripted-judge", JUDGE_DATASET
    )
    assert one.summary[1:] == two_workers.summary[1:]


def test_interrupted_run_resumed_with_r_is_identical(
    two_workers: OCRun, tmp_path: Path, tiny_tokenizer_dir: Path
) -> None:
    answered = 20

    def fail_after(n: int) -> str | None:
        return "500" if n > answered else None

    proc, judge = judge_run(tmp_path, tiny_tokenizer_dir, 2, fault=fail_after)
    log = proc.stdout + proc.stderr
    assert len(judge.requests) > answered, log[-3000:]
    (folder,) = (tmp_path / "out").iterdir()
    assert not list(folder.glob(f"results/scripted-judge/{JUDGE_DATASET}.json")), "the run was not cut short"
    saved = sum(
        len(path.read_text("utf-8").splitlines())
        for path in folder.glob(f"predictions/scripted-judge/tmp_{JUDGE_DATASET}_*.jsonl")
    )
    finished = sum(
        len(json.loads(path.read_text("utf-8")))
        for path in folder.glob(f"predictions/scripted-judge/{JUDGE_DATASET}_*.json")
    )
    assert 0 < saved + finished <= answered, (saved, finished)
    resumed, judge = judge_run(tmp_path, tiny_tokenizer_dir, 2, reuse=True)
    check_complete(resumed, ["scripted-judge"], [JUDGE_DATASET])
    assert resumed.folder == folder  # -r continued the same run
    # Only the unanswered requests were sent again.
    assert len(judge.requests) == ROWS - saved - finished
    assert figures(resumed, "scripted-judge", JUDGE_DATASET) == figures(
        two_workers, "scripted-judge", JUDGE_DATASET
    )
    assert predictions(resumed, "scripted-judge", JUDGE_DATASET) == predictions(
        two_workers, "scripted-judge", JUDGE_DATASET
    )


def test_reward_model_one_and_two_workers_identical(tmp_path: Path) -> None:
    rm = build_tiny_reward_model(tmp_path / "tiny-rm")
    runs = {}
    for workers in (1, 2):
        config = write_config(tmp_path / f"oc{workers}", RM_CONFIG.format(rm=rm))
        runs[workers] = run_opencompass(
            tmp_path / f"oc{workers}", [str(config), "--max-num-workers", str(workers)]
        )
        check_complete(runs[workers], ["tiny-rm"], [RM_DATASET])
    parts = sorted(path.name for path in runs[2].folder.glob(f"predictions/tiny-rm/{RM_DATASET}_*.json"))
    assert parts == [f"{RM_DATASET}_0.json", f"{RM_DATASET}_1.json"], parts
    assert figures(runs[1], "tiny-rm", RM_DATASET) == figures(runs[2], "tiny-rm", RM_DATASET)
    assert len(runs[1].results[("tiny-rm", RM_DATASET)]["details"]) == ROWS


SLURM_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "eval_longrewardbench_slurm.py"
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "longrm_tasks" / "data" / "sample"


def test_slurm_recipe_dry_run_and_sizes(tmp_path: Path) -> None:
    """The README's Slurm recipe: OpenCompass's dry run loads it, builds the full-benchmark datasets (here
    from a sample-sized copy) and partitions them; its tensor-parallel sizes are what the sizing picks."""
    from mmengine.config import Config

    from longrm_tasks.sizing import MODEL_SHAPES, size_run

    env = {**environment(), "LONGRM_DATA_DIR": str(SAMPLE_DIR)}
    # The recipe as shipped, on a sample-sized copy of the data (a partial copy must be declared).
    recipe = SLURM_EXAMPLE.read_text("utf-8") + '\nfor _d in datasets:\n    _d["partial_data"] = True\n'
    config = write_config(tmp_path, recipe)
    proc = subprocess.run(
        [executable("opencompass"), str(config), "--dry-run", "-w", "out"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    # 62 rows, num_worker=8 but at least 16 rows a part: 4 parts per model, 2 models.
    assert "Partitioned into 8 tasks." in log, log[-4000:]
    assert not list(tmp_path.glob("out/*/predictions")), "a dry run must not infer"
    from opencompass.partitioners import NumWorkerPartitioner
    from opencompass.runners import SlurmRunner

    config = Config.fromfile(str(SLURM_EXAMPLE), format_python_code=False)
    assert config.infer.runner.type is SlurmRunner
    assert config.infer.partitioner.type is NumWorkerPartitioner
    presets = {"qwen3-8b-vllm": "qwen3-8b", "llama-3.3-70b-vllm": "llama-3.3-70b"}
    for model in config.models:
        kwargs = model["model_kwargs"]
        plan = size_run(
            MODEL_SHAPES[presets[model["abbr"]]],
            gpus=8,
            longest_sequence=131_067 + 2_048,
            gpu_hours={},
            gpu_memory_gib=80,
            gpu_memory_utilization=kwargs["gpu_memory_utilization"],
        )
        assert kwargs["tensor_parallel_size"] == plan.tensor_parallel == model["run_cfg"]["num_gpus"]
        assert kwargs["max_model_len"] >= plan.longest_sequence


FAKE_SRUN = """#!/usr/bin/env bash
# Stands in for Slurm's srun: records its arguments, then runs the task command on this machine.
printf '%s\\n' "$*" >> "$SRUN_LOG"
while [ $# -gt 0 ]; do case "$1" in -J) shift 2; break ;; *) shift ;; esac; done
exec "$@"
"""

SLURM_INFER = """
from opencompass.partitioners import NumWorkerPartitioner
from opencompass.runners import SlurmRunner
from opencompass.tasks import OpenICLInferTask

infer = dict(
    partitioner=dict(type=NumWorkerPartitioner, num_worker=2),
    runner=dict(
        type=SlurmRunner, partition="cpu", max_num_workers=2, retry=0, task=dict(type=OpenICLInferTask)
    ),
)
"""


def test_slurm_runner_with_two_parts_is_identical(
    two_workers: OCRun, tmp_path: Path, tiny_tokenizer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SlurmRunner`` + ``NumWorkerPartitioner`` (srun replaced by a local stand-in): one srun job per
    part, and the figures of the local two-worker run."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text(FAKE_SRUN, "utf-8")
    (bin_dir / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("SRUN_LOG", str(tmp_path / "srun.log"))
    judge = ScriptedJudge(JUDGE, model_name="scripted-judge")
    with judge as base_url:
        config = write_config(
            tmp_path, ONE_DATASET.format(base_url=base_url, tiny=tiny_tokenizer_dir) + SLURM_INFER
        )
        run = run_opencompass(tmp_path, [str(config)])
    check_complete(run, ["scripted-judge"], [JUDGE_DATASET])
    jobs = (tmp_path / "srun.log").read_text("utf-8").splitlines()
    assert len(jobs) == 2 and all(job.startswith("-p cpu -N1 -u -J") for job in jobs), jobs
    assert figures(run, "scripted-judge", JUDGE_DATASET) == figures(
        two_workers, "scripted-judge", JUDGE_DATASET
    )


def test_incomplete_predictions_stop_the_evaluation() -> None:
    """A missing inference part must not leave a saved (error) result: ``-r`` would never re-evaluate."""
    from longrm_tasks.adapters.opencompass.evaluator import (
        IncompletePredictionsError,
        LongRewardBenchEvaluator,
        LongRewardBenchRMEvaluator,
    )

    for evaluator in (LongRewardBenchEvaluator(), LongRewardBenchRMEvaluator()):
        with pytest.raises(IncompletePredictionsError, match="31 predictions for 62 samples"):
            evaluator.score(["[[A]]"] * 31, [None] * 62, test_set=[{}] * 62, longrm=[None] * 31)
