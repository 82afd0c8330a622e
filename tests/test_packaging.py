"""A wheel and an editable install hold the same ``longrm_tasks.*`` modules at the same paths.

Each test installs the checkout into a throw-away virtualenv layered on the running interpreter's
packages (lm-eval, datasets, ...), whether that interpreter is a system Python or itself a venv, and
probes it from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "longrm_tasks" / "data" / "sample"

PROBE = textwrap.dedent(
    """
    import importlib.metadata, importlib.util, json, os
    from pathlib import Path

    import longrm_tasks
    from lm_eval.tasks import TaskManager

    root = Path(longrm_tasks.__file__).parent
    files = sorted(
        str(Path(folder, name).relative_to(root))
        for folder, dirs, names in os.walk(root, followlinks=True)
        if "__pycache__" not in folder
        for name in names
        if name.endswith((".py", ".yaml", ".jsonl", ".json"))
    )
    modules = {}
    for name in files:
        if name.endswith(".py"):
            dotted = "longrm_tasks." + name[:-3].replace(os.sep, ".").removesuffix(".__init__")
            spec = importlib.util.find_spec(dotted)
            modules[dotted] = None if spec is None else os.path.relpath(spec.origin, root)
    manager = TaskManager(include_defaults=False, metadata={})
    loaded = manager.load(["longrewardbench_sample"])
    task = loaded["tasks"]["longrewardbench_sample"]
    print(json.dumps({
        "package": longrm_tasks.__file__,
        "yamls": str(longrm_tasks.task_yaml_dir()),
        "files": files,
        "modules": modules,
        "strays": {name: importlib.util.find_spec(name) is not None for name in (
            "adapters", "task_yamls", "tests", "longrm_tasks.tests", "longrm_tasks.longrm_tasks",
            "longrm_tasks.scripts",
        )},
        "tasks": sorted(n for n in manager.all_subtasks if n.startswith("longrewardbench")),
        "docs": len(task.test_docs()),
        "entry_points": {
            group: {
                p.name: p.value for p in importlib.metadata.entry_points(group=group)
                if p.dist.name == "longrm-tasks"
            }
            for group in ("lm_eval.models", "lm_eval.tasks", "inspect_ai")
        },
    }))
    """
)


def layered_venv(folder: Path) -> Path:
    """A venv whose own site-packages come first, then the running interpreter's (as plain paths, so
    none of their ``.pth`` files, e.g. an editable install of this checkout, take effect)."""
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    inner = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(inner, "zz_outer_packages.pth").write_text("\n".join(dict.fromkeys(outer)) + "\n", "utf-8")
    return python


def probe(python: Path, cwd: Path) -> dict:
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run(
        [python, "-c", PROBE], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def pip(python: Path, *args: str) -> None:
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", *args],
        check=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def installs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """The checkout installed both ways; each probed from outside the checkout."""
    base = tmp_path_factory.mktemp("installs")
    wheel_dir = base / "wheel"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*build, "-w", str(wheel_dir), str(ROOT)], check=True, timeout=300)
    (wheel,) = wheel_dir.glob("longrm_tasks-*.whl")
    result = {}
    for kind, args in (("wheel", [str(wheel)]), ("editable", ["-e", str(ROOT)])):
        env_dir = base / f"venv-{kind}"
        python = layered_venv(env_dir)
        pip(python, *args)
        result[kind] = (env_dir, probe(python, base))
    return result


@pytest.mark.slow
def test_wheel_install_registers_and_loads_tasks(installs: dict[str, tuple[Path, dict]]) -> None:
    env_dir, facts = installs["wheel"]
    assert facts["package"].startswith(str(env_dir)), facts["package"]
    assert facts["yamls"] == str(Path(facts["package"]).parent / "task_yamls")
    assert {
        "longrewardbench",
        "longrewardbench_sample",
        "longrewardbench_rm",
        "longrewardbench_sample_rm",
    } <= set(facts["tasks"])
    # lm-eval's plugin entry points (upstream PRs #4013 / #4015) and Inspect's reach the installed metadata.
    assert facts["entry_points"] == {
        "lm_eval.models": {
            "longrm-rm": "longrm_tasks.adapters.lm_eval.reward_model:RewardModelLM",
            "longrm-hf": "longrm_tasks.adapters.lm_eval.implicit_reward:PrefixSharedHFLM",
        },
        "lm_eval.tasks": {"longrewardbench": "longrm_tasks.task_yamls"},
        "inspect_ai": {"longrm_tasks": "longrm_tasks.adapters.inspect.tasks"},
    }
    sample_rows = sum(len(path.read_text().splitlines()) for path in SAMPLE_DIR.glob("*.jsonl"))
    assert facts["docs"] == sample_rows


@pytest.mark.slow
def test_editable_install_resolves_every_module_as_the_wheel_does(
    installs: dict[str, tuple[Path, dict]],
) -> None:
    _, wheel = installs["wheel"]
    _, editable = installs["editable"]
    assert editable["package"] == str(ROOT / "longrm_tasks" / "__init__.py")
    assert editable["files"] == wheel["files"]
    assert (
        "adapters/lm_eval/task.py" in wheel["files"] and "task_yamls/longrewardbench.yaml" in wheel["files"]
    )
    assert editable["modules"] == wheel["modules"]
    assert all(origin is not None for origin in wheel["modules"].values())
    assert editable["tasks"] == wheel["tasks"] and editable["docs"] == wheel["docs"]
    assert editable["entry_points"] == wheel["entry_points"]
    # Nothing beside the package is importable: not the checkout's folders, not the checkout as a package.
    assert not any(wheel["strays"].values()), wheel["strays"]
    assert not any(editable["strays"].values()), editable["strays"]
