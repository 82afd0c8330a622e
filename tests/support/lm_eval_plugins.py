"""A small stand-in for lm-eval's upstream plugin loading, grafted onto the installed lm-eval 0.4.13.

Modelled on the upstream code (written here, not copied): PR #4013 adds ``load_plugins(group, registry)``
to ``lm_eval.api.registry`` and calls it when ``lm_eval.models`` is imported (each ``lm_eval.models``
entry point becomes a lazy ``EntryPoint`` placeholder unless the name is taken); PR #4015 adds
``discover_plugin_task_paths()`` to ``lm_eval.tasks.manager`` and scans those folders after the
built-in tasks and before ``include_path`` (so ``--include_path`` still wins).

``install()`` puts a meta-path finder *behind* the start-up hook's, so each module runs in the order an
upstream lm-eval gives: lm-eval's module, then its plugin code (the graft), then our hook's patch.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

MODELS_GROUP = "lm_eval.models"
TASKS_GROUP = "lm_eval.tasks"

_loaded_groups: set[str] = set()


def load_plugins(group: str, registry: Any) -> list[str]:
    """Register every entry point of ``group`` as a lazy placeholder, once per group (#4013)."""
    if group in _loaded_groups:
        return []
    _loaded_groups.add(group)
    found = []
    for point in importlib.metadata.entry_points(group=group):
        if point.name not in registry:
            registry.register(point.name, target=point)
            found.append(point.name)
    return found


def _task_folder(value: str) -> Path | None:
    """The folder of the package (or module) an ``lm_eval.tasks`` entry point names (#4015)."""
    spec = importlib.util.find_spec(value.split(":", 1)[0].strip())
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return Path(spec.origin).resolve().parent if spec.origin else None


def discover_plugin_task_paths() -> list[Path]:
    """Task folders named by installed ``lm_eval.tasks`` entry points, de-duplicated, in order."""
    folders: list[Path] = []
    for point in importlib.metadata.entry_points(group=TASKS_GROUP):
        try:
            folder = _task_folder(point.value)
        except Exception:  # upstream logs and skips a broken plugin
            continue
        if folder is not None and folder not in folders:
            folders.append(folder)
    return folders


def graft_task_plugins(manager_module: ModuleType) -> None:
    """Give 0.4.13's ``TaskManager`` the upstream scan order: defaults, plugin folders, include_path."""
    manager_module.discover_plugin_task_paths = discover_plugin_task_paths
    original = manager_module.TaskManager.__init__

    @functools.wraps(original)
    def __init__(self: Any, verbosity: Any = None, include_path: Any = None, **kwargs: Any) -> None:
        user = [] if include_path is None else include_path
        user = list(user) if isinstance(user, (list, tuple)) else [user]
        original(self, verbosity, include_path=[*discover_plugin_task_paths(), *user] or None, **kwargs)
        self.include_path = include_path  # what the caller passed, as upstream keeps it

    manager_module.TaskManager.__init__ = __init__


def graft_model_plugins(models_module: ModuleType) -> None:
    """What upstream ``lm_eval.models`` does on import: load the ``lm_eval.models`` entry points."""
    from lm_eval.api import registry

    registry.load_plugins = load_plugins
    load_plugins(MODELS_GROUP, registry.model_registry)


_GRAFTS = {"lm_eval.tasks.manager": graft_task_plugins, "lm_eval.models": graft_model_plugins}


class _GraftingLoader:
    def __init__(self, loader: Any, graft: Any) -> None:
        self._loader, self._graft = loader, graft

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._graft(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _UpstreamPluginFinder:
    """Finds lm-eval's two modules through the other finders, skipping the start-up hook's."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _GRAFTS:
            return None
        for finder in sys.meta_path:
            if finder is self or type(finder).__name__ == "_LongRMTasksFinder":
                continue
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None:
                spec.loader = _GraftingLoader(spec.loader, _GRAFTS[fullname])
                return spec
        return None


def install() -> None:
    """Make the next import of lm-eval behave like an lm-eval that reads the plugin entry points."""
    if any(name in sys.modules for name in _GRAFTS):
        raise RuntimeError("install() must run before lm_eval.tasks.manager / lm_eval.models are imported")
    hook = [i for i, finder in enumerate(sys.meta_path) if type(finder).__name__ == "_LongRMTasksFinder"]
    sys.meta_path.insert(hook[0] + 1 if hook else 0, _UpstreamPluginFinder())


def only_entry_points_from(distribution: str) -> None:
    """Make lm-eval's plugin groups show only ``distribution``'s entry points (none if not installed).

    The probes then see the same plugin universe whatever else this interpreter has installed (an
    editable install of the project carries the same entry points).
    """
    original = importlib.metadata.entry_points

    def entry_points(**params: Any) -> Any:
        points = original(**params)
        if params.get("group") not in (MODELS_GROUP, TASKS_GROUP):
            return points
        return importlib.metadata.EntryPoints(
            point for point in points if point.dist is not None and point.dist.name == distribution
        )

    importlib.metadata.entry_points = entry_points
