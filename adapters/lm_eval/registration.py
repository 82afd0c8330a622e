"""Registration with lm-eval: our tasks without ``--include_path``, our model backend by name.

Called by the start-up hook (``hook/_longrm_tasks_hook.py``) right after lm-eval's own modules.
"""

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


#: Model backends of this package: lm-eval name → lazy ``module:class`` target.
MODEL_BACKENDS = {"longrm-rm": "longrm_tasks.adapters.lm_eval.reward_model:RewardModelLM"}


def register_models(models_module: ModuleType) -> None:
    """Register our backends as lazy placeholders (nothing is imported until one is used)."""
    from lm_eval.api.registry import model_registry

    for name, target in MODEL_BACKENDS.items():
        if name not in model_registry:
            model_registry.register(name, target=target)
