"""Registration with lm-eval: our tasks without ``--include_path``, our model backend by name.

Two mechanisms, never both at once. The package declares lm-eval's plugin entry points
(``pyproject.toml``: ``lm_eval.models`` from upstream PR #4013, ``lm_eval.tasks`` from PR #4015); an
lm-eval that reads them finds our backend and task folder itself. lm-eval 0.4.13 reads neither, so the
start-up hook (``hook/_longrm_tasks_hook.py``) calls the functions below right after lm-eval's own
modules; each one stands down, silently, when the running lm-eval reads the matching entry point and
this package's is installed (so nothing is registered twice and no override warning is logged).
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

from longrm_tasks import task_yaml_dir

_PATCHED = "__longrm_tasks_patched__"

#: Entry-point groups read by lm-eval's plugin loaders (upstream PRs #4013 and #4015).
MODELS_GROUP = "lm_eval.models"
TASKS_GROUP = "lm_eval.tasks"

#: Model backends of this package: lm-eval name → lazy ``module:class`` target (the ``lm_eval.models``
#: entry points in ``pyproject.toml`` declare exactly these).
MODEL_BACKENDS = {
    "longrm-rm": "longrm_tasks.adapters.lm_eval.reward_model:RewardModelLM",
    "longrm-hf": "longrm_tasks.adapters.lm_eval.implicit_reward:PrefixSharedHFLM",
}

#: The ``lm_eval.tasks`` entry point: name → the package whose folder holds our task YAMLs.
TASK_PLUGINS = {"longrewardbench": "longrm_tasks.task_yamls"}

#: What an lm-eval that reads the entry points exposes: the task-folder discovery in
#: ``lm_eval.tasks.manager`` (PR #4015) and the plugin loader in ``lm_eval.api.registry`` (PR #4013).
TASK_DISCOVERY = "discover_plugin_task_paths"
MODEL_DISCOVERY = "load_plugins"


def _as_list(include_path: Any) -> list[Any]:
    if include_path is None:
        return []
    return list(include_path) if isinstance(include_path, (list, tuple)) else [include_path]


def entry_point_installed(group: str, name: str, value: str) -> bool:
    """True when an installed distribution declares ``name = value`` in entry-point ``group``."""
    return any(
        point.name == name and point.value.strip() == value
        for point in importlib.metadata.entry_points(group=group)
    )


def lm_eval_finds_our_tasks(manager_module: ModuleType) -> bool:
    """True when this lm-eval scans ``lm_eval.tasks`` entry points and ours is installed."""
    return callable(getattr(manager_module, TASK_DISCOVERY, None)) and all(
        entry_point_installed(TASKS_GROUP, name, value) for name, value in TASK_PLUGINS.items()
    )


def lm_eval_finds_our_models(registry_module: ModuleType) -> bool:
    """True when this lm-eval loads ``lm_eval.models`` entry points and ours are installed."""
    return callable(getattr(registry_module, MODEL_DISCOVERY, None)) and all(
        entry_point_installed(MODELS_GROUP, name, target) for name, target in MODEL_BACKENDS.items()
    )


def patch_task_manager(manager_module: ModuleType) -> None:
    """Wrap ``TaskManager.__init__`` so our task folder comes first among the include paths.

    User include paths come after ours, so a user's same-named task still overrides ours (the
    precedence lm-eval's own task plugins have: defaults < plugins < ``--include_path``). Nothing is
    patched when lm-eval finds our tasks through the entry point.
    """
    if lm_eval_finds_our_tasks(manager_module):
        return
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


def register_models(models_module: ModuleType) -> None:
    """Register our backends as lazy placeholders (nothing is imported until one is used).

    Nothing is registered when lm-eval loads our ``lm_eval.models`` entry points itself.
    """
    from lm_eval.api import registry

    if lm_eval_finds_our_models(registry):
        return
    for name, target in MODEL_BACKENDS.items():
        if name not in registry.model_registry:
            registry.model_registry.register(name, target=target)
