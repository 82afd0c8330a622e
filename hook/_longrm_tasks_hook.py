"""Start-up hook installed by ``longrm-tasks`` (via ``longrm_tasks_hook.pth``).

lm-eval 0.4.x has no task plugin entry point. This module only registers a tiny import finder;
nothing else is imported until a program imports ``lm_eval.tasks.manager`` (then ``TaskManager``
is patched to also index this package's task YAMLs) or ``lm_eval.models`` (then the scalar-RM
backend ``longrm-rm`` is registered, lazily, next to lm-eval's own models). Set
``LONGRM_TASKS_DISABLE_HOOK=1`` to switch it off (then use ``--include_path``). Any failure is
reported as a warning and leaves lm-eval untouched. Where lm-eval reads the package's own
``lm_eval.tasks`` / ``lm_eval.models`` entry points, the registration functions stand down.
"""

import os
import sys

#: lm-eval module → function of ``longrm_tasks.adapters.lm_eval.registration`` run right after it.
_TARGETS = {"lm_eval.tasks.manager": "patch_task_manager", "lm_eval.models": "register_models"}


class _LongRMTasksFinder:
    """Meta-path finder that runs the patch right after lm-eval's module is executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _TARGETS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _TARGETS[fullname])
                return spec
        return None


class _PatchingLoader:
    def __init__(self, loader, patch_name):
        self._loader = loader
        self._patch_name = patch_name

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            from longrm_tasks.adapters.lm_eval import registration

            getattr(registration, self._patch_name)(module)
        except Exception as error:  # never break lm-eval because of us
            import warnings

            warnings.warn(
                f"longrm-tasks: could not register tasks with lm-eval ({type(error).__name__}: {error}); "
                "use --include_path $(python -m longrm_tasks path)",
                stacklevel=2,
            )

    def __getattr__(self, name):
        return getattr(self._loader, name)


if os.environ.get("LONGRM_TASKS_DISABLE_HOOK", "").lower() not in ("1", "true", "yes") and not any(
    isinstance(finder, _LongRMTasksFinder) for finder in sys.meta_path
):
    sys.meta_path.insert(0, _LongRMTasksFinder())
