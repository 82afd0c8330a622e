"""The package works from a built wheel, not only from the editable checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "longrm_tasks" / "data" / "sample"

PROBE = textwrap.dedent(
    """
    import json, longrm_tasks
    from lm_eval.tasks import TaskManager
    manager = TaskManager(include_defaults=False, metadata={})
    loaded = manager.load(["longrewardbench_sample"])
    task = loaded["tasks"]["longrewardbench_sample"]
    print(json.dumps({
        "package": longrm_tasks.__file__,
        "yamls": str(longrm_tasks.task_yaml_dir()),
        "tasks": sorted(n for n in manager.all_subtasks if n.startswith("longrewardbench")),
        "docs": len(task.test_docs()),
    }))
    """
)


@pytest.mark.slow
def test_wheel_install_registers_and_loads_tasks(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = wheel_dir.glob("longrm_tasks-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    result = subprocess.run(
        [python, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["package"].startswith(str(env_dir)), facts
    assert facts["yamls"] == str(Path(facts["package"]).parent / "task_yamls")
    assert {
        "longrewardbench",
        "longrewardbench_sample",
        "longrewardbench_rm",
        "longrewardbench_sample_rm",
    } <= set(facts["tasks"])
    sample_rows = sum(len(path.read_text().splitlines()) for path in SAMPLE_DIR.glob("*.jsonl"))
    assert facts["docs"] == sample_rows
