"""The tasks are found by lm-eval without --include_path, and the hook can never break lm-eval."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from longrm_tasks import task_yaml_dir

OUR_TASKS = {
    "longrewardbench",
    "longrewardbench_pairwise",
    "longrewardbench_bon",
    "longrewardbench_sample",
    "longrewardbench_pairwise_sample",
    "longrewardbench_bon_sample",
}

LIST_TASKS = textwrap.dedent(
    """
    from lm_eval.tasks import TaskManager
    names = set(TaskManager(include_defaults=False).all_subtasks)
    print(sorted(n for n in names if n.startswith("longrewardbench")))
    """
)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_task_manager_finds_tasks_in_a_fresh_interpreter() -> None:
    result = _python(LIST_TASKS)
    assert result.returncode == 0, result.stderr
    assert set(eval(result.stdout)) >= OUR_TASKS


def test_hook_off_switch_hides_tasks_and_include_path_brings_them_back() -> None:
    hidden = _python(LIST_TASKS, LONGRM_TASKS_DISABLE_HOOK="1")
    assert hidden.returncode == 0, hidden.stderr
    assert eval(hidden.stdout) == []
    explicit = _python(
        LIST_TASKS.replace(
            "TaskManager(include_defaults=False)",
            f"TaskManager(include_path={str(task_yaml_dir())!r}, include_defaults=False)",
        ),
        LONGRM_TASKS_DISABLE_HOOK="1",
    )
    assert set(eval(explicit.stdout)) >= OUR_TASKS


def test_broken_registration_warns_and_leaves_lm_eval_working() -> None:
    code = textwrap.dedent(
        """
        import warnings, longrm_tasks.adapters.lm_eval.registration as reg
        def broken(module):
            raise RuntimeError("simulated breakage")
        reg.patch_task_manager = broken
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from lm_eval.tasks import TaskManager
        print([str(w.message) for w in caught if "longrm-tasks" in str(w.message)])
        print(len(TaskManager(include_defaults=False).all_tasks))
        """
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    warned, count = result.stdout.strip().splitlines()
    assert "simulated breakage" in warned and "--include_path" in warned
    assert count == "0"  # lm-eval works; our tasks are simply absent


def test_user_include_path_is_kept_after_ours(tmp_path: pytest.TempPathFactory) -> None:
    (tmp_path / "mine.yaml").write_text("task: my_probe_task\ndataset_path: x\noutput_type: generate_until\n")
    manager = f"TaskManager(include_path={str(tmp_path)!r}, include_defaults=False)"
    code = f"from lm_eval.tasks import TaskManager\nprint({manager}.all_tasks)"
    result = _python(code)
    names = eval(result.stdout)
    assert "my_probe_task" in names and "longrewardbench" in names


def test_hook_costs_nothing_at_interpreter_start() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"], capture_output=True, text=True, timeout=60
    )
    hook_lines = [line for line in result.stderr.splitlines() if "_longrm_tasks_hook" in line]
    assert hook_lines, "the .pth start-up hook is not installed"
    # "import time: self [us] | cumulative | name": the hook must not import anything heavy.
    cumulative_us = int(hook_lines[-1].split("|")[1])
    assert cumulative_us < 20_000
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert not [name for name in imported if name.split(".")[0] == "longrm_tasks"], imported
