"""Wheel layout: the top-level ``adapters/`` and ``task_yamls/`` become ``longrm_tasks.adapters``
and ``longrm_tasks.task_yamls``; the start-up hook (``.pth`` + module) goes to site-packages.

Editable installs skip the first mapping: the package finds both folders in the checkout.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    """Adds the force-include mapping that depends on the build version."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        force_include = build_data["force_include"]
        force_include["hook/_longrm_tasks_hook.py"] = "_longrm_tasks_hook.py"
        force_include["hook/longrm_tasks_hook.pth"] = "longrm_tasks_hook.pth"
        if version == "standard":
            force_include["adapters"] = "longrm_tasks/adapters"
            force_include["task_yamls"] = "longrm_tasks/task_yamls"
