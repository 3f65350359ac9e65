"""The built-in tools the settings turn on (see `settings.ToolSettings`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..builtin_tools import calculator, current_time
from ..engine import Approvals, Tool
from .settings import BUILTINS, ToolSettings
from .shell import shell_tool
from .web import fetch_tool
from .workspace import WorkspaceError, workspace_tools

__all__ = ["BUILTINS", "ToolSettings", "build_tools", "configured_tools"]


def build_tools(settings: ToolSettings) -> tuple[list[Tool], list[str]]:
    """The built-in tools the settings turn on, and what could not be set up."""
    tools: list[Tool] = []
    problems: list[str] = []
    if settings.enabled("current_time"):
        tools.append(current_time)
    if settings.enabled("calculator"):
        tools.append(calculator)
    if settings.enabled("fetch_url"):
        tools.append(fetch_tool())
    wants_folder = settings.enabled("workspace") or settings.enabled("run_shell")
    if wants_folder and settings.workspace:
        folder = Path(settings.workspace).expanduser()
        try:
            if settings.enabled("workspace"):
                tools += workspace_tools(folder)
        except WorkspaceError as exc:
            problems.append(f"Workspace tools are off: {exc}.")
        else:
            if settings.enabled("run_shell"):
                tools.append(shell_tool(folder))
    elif wants_folder and settings.enabled("run_shell"):
        problems.append("The shell tool needs a workspace folder (Settings → Tools).")
    return tools, problems


def configured_tools() -> tuple[list[Tool], Approvals, list[str]]:
    """For `chat` and `serve`: the tools and approvals as the settings file has them
    (an "always" given there is saved there too)."""
    from ..config import load_settings, update_settings

    settings = ToolSettings.from_settings(load_settings())
    tools, problems = build_tools(settings)
    known = [settings]  # this process's own view, as last written

    def persist(names: frozenset[str]) -> None:
        """Only what changed here, merged into the file as it is now (under its
        lock): another process's answers are kept."""
        mine = replace(known[0], always_allowed=names)

        def change(saved: dict[str, Any]) -> None:
            merged = mine.rebased(known[0], ToolSettings.from_settings(saved))
            saved.update(merged.to_settings())
            known[0] = mine

        update_settings(change)

    return tools, Approvals(settings.always_allowed, on_change=persist), problems
