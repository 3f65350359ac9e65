"""The built-in tools, and which of them a choice of settings turns on (the
settings themselves are the app's: `app.settings.ToolSettings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..engine import Tool
from .basic import calculator, current_time
from .fetch import fetch_tool
from .shell import shell_tool
from .workspace import WorkspaceError, workspace_tools

__all__ = ["BUILTINS", "ToolChoice", "build_tools"]

#: (name in settings, what it is, on by default): the switches in Settings → Tools.
BUILTINS: list[tuple[str, str, bool]] = [
    ("current_time", "Date and time (with time zone)", True),
    ("calculator", "Calculator (arithmetic, evaluated safely)", True),
    ("workspace", "Files in the workspace folder: list, read, search, write", True),
    ("fetch_url", "Fetch web pages (http/https)", True),
    ("run_shell", "Shell commands in the workspace folder", False),
]


class ToolChoice(Protocol):
    """Which built-ins are on and the workspace folder (`app.settings.ToolSettings`)."""

    @property
    def workspace(self) -> str: ...

    def enabled(self, name: str) -> bool: ...


def build_tools(settings: ToolChoice) -> tuple[list[Tool], list[str]]:
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
