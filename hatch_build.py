"""Wheel layout: the start-up hook (``.pth`` file + module) goes to the top of site-packages.

``longrm_tasks/adapters`` and ``longrm_tasks/task_yamls`` are links to the top-level folders; the wheel
and editable builds follow them, so both install kinds hold the same files under ``longrm_tasks/``.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    """Adds the start-up hook files, which live outside the package, to every wheel build."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        force_include = build_data["force_include"]
        force_include["hook/_longrm_tasks_hook.py"] = "_longrm_tasks_hook.py"
        force_include["hook/longrm_tasks_hook.pth"] = "longrm_tasks_hook.pth"
