"""lm-eval plugin entry points: declared as upstream defines them; the start-up hook stands down where
lm-eval reads them and works as before where it does not (lm-eval 0.4.13).

The "upstream" lm-eval is a stand-in of PRs #4013/#4015 grafted onto the installed lm-eval
(``support/lm_eval_plugins.py``); the entry points come from a real ``.dist-info`` written from
``pyproject.toml``, read by ``importlib.metadata`` in a fresh interpreter that runs the real hook.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.entry_points import declared, write_dist_info

from longrm_tasks import task_yaml_dir
from longrm_tasks.adapters.lm_eval import registration

pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
PROBE_DIST = "longrm-tasks-entry-point-probe"
OUR_TASKS = ("longrewardbench", "longrewardbench_sample", "longrewardbench_rm", "longrewardbench_audit")

PROBE = textwrap.dedent(
    """
    import json, logging, sys, warnings
    from support import lm_eval_plugins

    upstream, stand_down = sys.argv[1] == "upstream", sys.argv[2] == "stand-down"
    lm_eval_plugins.only_entry_points_from(sys.argv[3])
    if upstream:
        lm_eval_plugins.install()
    if not stand_down:  # negative control: what the stand-down prevents
        from longrm_tasks.adapters.lm_eval import registration
        registration.lm_eval_finds_our_tasks = lambda module: False

    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger().addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from lm_eval.tasks import TaskManager
        manager = TaskManager(include_defaults=False)
        import lm_eval.models
        from lm_eval.api.registry import model_registry
        placeholder = dict(model_registry.items())["longrm-rm"]
        backend = model_registry.get("longrm-rm")
    print(json.dumps({
        "include_path": manager.include_path,
        "tasks": {name: str(entry.yaml_path) for name, entry in manager.task_index.items()},
        "placeholder": type(placeholder).__name__,
        "backend": f"{backend.__module__}:{backend.__qualname__}",
        "warnings": [str(w.message) for w in caught] + [r.getMessage() for r in records],
    }))
    """
)


def probe(tmp_path: Path, lm_eval: str, installed: bool, stand_down: bool = True) -> dict:
    site = tmp_path / "site"
    if installed:
        write_dist_info(site, PROBE_DIST)
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(site), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", PROBE, lm_eval, "stand-down" if stand_down else "no-stand-down", PROBE_DIST],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": path, "LONGRM_TASKS_DISABLE_HOOK": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_tasks_once_from_our_folder(facts: dict) -> None:
    for name in OUR_TASKS:
        assert Path(facts["tasks"][name]).parent.resolve() == task_yaml_dir().resolve(), name
    assert facts["backend"] == registration.MODEL_BACKENDS["longrm-rm"]
    assert facts["warnings"] == []  # no override ("registered twice") or hook warning of any kind


def test_pyproject_declares_what_the_hook_registers() -> None:
    points = declared()
    assert set(points) == {registration.MODELS_GROUP, registration.TASKS_GROUP, "inspect_ai"}
    assert points[registration.MODELS_GROUP] == registration.MODEL_BACKENDS
    assert points[registration.TASKS_GROUP] == registration.TASK_PLUGINS


def test_declared_targets_resolve_to_our_backend_and_task_folder() -> None:
    for name, target in registration.MODEL_BACKENDS.items():
        backend = importlib.metadata.EntryPoint(name, target, registration.MODELS_GROUP).load()
        assert f"{backend.__module__}:{backend.__qualname__}" == target
    for package in registration.TASK_PLUGINS.values():
        (folder,) = importlib.util.find_spec(package).submodule_search_locations
        assert Path(folder).resolve() == task_yaml_dir().resolve()
        assert (Path(folder) / "longrewardbench.yaml").is_file()


@pytest.mark.slow
def test_upstream_lm_eval_reads_the_entry_points_and_the_hook_stands_down(tmp_path: Path) -> None:
    facts = probe(tmp_path, "upstream", installed=True)
    assert facts["include_path"] is None  # the hook added no include path: the plugin folder was scanned
    assert facts["placeholder"] == "EntryPoint"  # registered by lm-eval's loader, not by the hook
    assert_tasks_once_from_our_folder(facts)


@pytest.mark.slow
def test_without_the_stand_down_upstream_would_index_our_tasks_twice(tmp_path: Path) -> None:
    facts = probe(tmp_path, "upstream", installed=True, stand_down=False)
    overrides = [text for text in facts["warnings"] if "overrides existing task" in text]
    assert any("'longrewardbench_sample'" in text for text in overrides), facts["warnings"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lm_eval", "installed"),
    [("0.4.13", True), ("0.4.13", False), ("upstream", False)],
    ids=["lm-eval-0.4.13", "lm-eval-0.4.13-from-a-checkout", "upstream-from-a-checkout"],
)
def test_the_hook_registers_where_lm_eval_does_not_read_our_entry_points(
    tmp_path: Path, lm_eval: str, installed: bool
) -> None:
    facts = probe(tmp_path, lm_eval, installed)
    assert facts["include_path"] == [str(task_yaml_dir())]  # added by the hook
    assert facts["placeholder"] == "str"  # the hook's lazy "module:Class" placeholder
    assert_tasks_once_from_our_folder(facts)
