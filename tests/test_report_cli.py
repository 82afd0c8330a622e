"""The ``longrm`` console script: subcommands; ``path`` and ``demo-model-dir`` delegate to ``__main__``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from longrm_tasks import __main__ as helpers
from longrm_tasks import task_yaml_dir
from longrm_tasks.cli import COMMANDS, main


def test_path_delegates(capsys: pytest.CaptureFixture) -> None:
    assert main(["path"]) == 0
    assert capsys.readouterr().out.strip() == str(task_yaml_dir())


def test_demo_model_dir_delegates(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(helpers, "main", lambda argv: calls.append(argv) or 0)
    assert main(["demo-model-dir"]) == 0
    assert calls == [["demo-model-dir"]]


def test_every_subcommand_has_help() -> None:
    for command in [*COMMANDS, "path", "demo-model-dir"]:
        with pytest.raises(SystemExit) as stop:
            main([command, "--help"] if command not in ("path", "demo-model-dir") else ["--help"])
        assert stop.value.code == 0, command


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "longrm_tasks.cli", "path"], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(task_yaml_dir())


def test_missing_run_is_one_clear_line(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("longrm report: ") and "no such file or folder" in err and len(err.splitlines()) == 1
    )


def test_plan_is_a_subcommand_of_the_one_console_script(monkeypatch: pytest.MonkeyPatch) -> None:
    import tomllib

    from longrm_tasks import plan

    seen = []
    monkeypatch.setattr(plan, "run_plan", lambda args: seen.append(args) or 0)
    assert main(["plan", "--tokenizer", "tok", "--sample", "--budget", "1000", "--params", "8B"]) == 0
    (args,) = seen
    assert (args.command, args.tokenizer, args.sample, args.budget, args.params) == (
        "plan", "tok", True, 1000, 8e9,
    )  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        main(["plan", "--sample"])  # --tokenizer is required: argparse's usage error, status 2
    assert stop.value.code == 2
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["scripts"] == {"longrm": "longrm_tasks.cli:main"}
