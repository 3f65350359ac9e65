"""A session: what every surface (the window, `chat`, `serve`) runs on, built
from the settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..engine import Approvals, Tool
from ..tools.catalog import build_tools
from .settings import ToolSettings, load_settings, update_settings

__all__ = ["configured_tools"]


def configured_tools() -> tuple[list[Tool], Approvals, list[str]]:
    """For `chat` and `serve`: the tools and approvals as the settings file has them
    (an "always" given there is saved there too)."""
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
