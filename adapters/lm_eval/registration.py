"""Makes lm-eval's ``TaskManager`` index this package's tasks without ``--include_path``."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from longrm_tasks import task_yaml_dir

_PATCHED = "__longrm_tasks_patched__"


def _as_list(include_path: Any) -> list[Any]:
    if include_path is None:
        return []
    return list(include_path) if isinstance(include_path, (list, tuple)) else [include_path]


def patch_task_manager(manager_module: ModuleType) -> None:
    """Wrap ``TaskManager.__init__`` so our task folder comes first among the include paths.

    User include paths come after ours, so a user's same-named task still overrides ours.
    """
    manager_class = manager_module.TaskManager
    original = manager_class.__init__
    if getattr(original, _PATCHED, False):
        return
    signature = inspect.signature(original)
    ours = task_yaml_dir()

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        paths = _as_list(bound.arguments.get("include_path"))
        if not any(Path(str(path)).resolve() == ours.resolve() for path in paths):
            bound.arguments["include_path"] = [str(ours), *paths]
        original(*bound.args, **bound.kwargs)

    setattr(__init__, _PATCHED, True)
    manager_class.__init__ = __init__
