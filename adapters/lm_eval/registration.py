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


#: Attribute of an aggregation function holding the function that computes its standard error.
STDERR_ATTRIBUTE = "longrm_stderr"


def patch_stderr(evaluator_utils: ModuleType | None = None) -> None:
    """Let an aggregation bring its own standard error (``STDERR_ATTRIBUTE``).

    lm-eval 0.4.13 prints a stderr only for aggregations it recognises by identity (its own ``mean``
    and a few bootstrappable ones: ``api.metrics.stderr_for_metric``); ours are the core's exactly
    rounded reducers, so it would print ``N/A``. Other aggregations are left to lm-eval, and
    ``--bootstrap_iters 0`` still turns every stderr off.
    """
    if evaluator_utils is None:
        import lm_eval.evaluator_utils as evaluator_utils
    original = evaluator_utils.stderr_for_metric
    if getattr(original, _PATCHED, False):
        return

    @functools.wraps(original)
    def stderr_for_metric(metric: Any, bootstrap_iters: int) -> Any:
        own = getattr(metric, STDERR_ATTRIBUTE, None)
        if own is not None:
            return own if bootstrap_iters > 0 else None
        return original(metric=metric, bootstrap_iters=bootstrap_iters)

    setattr(stderr_for_metric, _PATCHED, True)
    evaluator_utils.stderr_for_metric = stderr_for_metric


#: Model backends of this package: lm-eval name → lazy ``module:class`` target.
MODEL_BACKENDS = {"longrm-rm": "longrm_tasks.adapters.lm_eval.reward_model:RewardModelLM"}


def register_models(models_module: ModuleType) -> None:
    """Register our backends as lazy placeholders (nothing is imported until one is used)."""
    from lm_eval.api.registry import model_registry

    for name, target in MODEL_BACKENDS.items():
        if name not in model_registry:
            model_registry.register(name, target=target)
