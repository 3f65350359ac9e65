"""Which tools the agent has: the built-ins the user left on, the workspace folder,
the shell (off by default), and the tools always allowed without asking. (Light:
imported by the window before its first paint; the tools are built in `catalog`.)

Kept in the settings file under "tools":
    {"disabled": ["run_shell"], "workspace": "~/projects/x", "always_allowed": ["write_file"]}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["BUILTINS", "ToolSettings"]

#: (name in settings, what it is, on by default): the switches in Settings → Tools.
BUILTINS: list[tuple[str, str, bool]] = [
    ("current_time", "Date and time (with time zone)", True),
    ("calculator", "Calculator (arithmetic, evaluated safely)", True),
    ("workspace", "Files in the workspace folder: list, read, search, write", True),
    ("fetch_url", "Fetch web pages (http/https)", True),
    ("run_shell", "Shell commands in the workspace folder", False),
]


@dataclass(frozen=True)
class ToolSettings:
    disabled: frozenset[str] = frozenset({"run_shell"})
    workspace: str = ""
    always_allowed: frozenset[str] = field(default_factory=frozenset)

    def enabled(self, name: str) -> bool:
        return name not in self.disabled

    def switched(self, name: str, on: bool) -> ToolSettings:
        disabled = self.disabled - {name} if on else self.disabled | {name}
        return replace(self, disabled=frozenset(disabled))

    @classmethod
    def from_settings(cls, saved: dict[str, Any]) -> ToolSettings:
        raw = saved.get("tools")
        if not isinstance(raw, dict):
            return cls()
        disabled = raw.get("disabled")
        return cls(
            disabled=frozenset(map(str, disabled)) if isinstance(disabled, list) else cls.disabled,
            workspace=str(raw.get("workspace") or ""),
            always_allowed=frozenset(map(str, raw.get("always_allowed") or [])),
        )

    def rebased(self, base: ToolSettings, theirs: ToolSettings) -> ToolSettings:
        """These settings' changes since `base` applied to `theirs` (what is on disk
        now, maybe changed by another process): a switch or an "always" added or
        removed here is added or removed there; the rest stays theirs."""

        def merge(mine: frozenset[str], was: frozenset[str], now: frozenset[str]) -> frozenset[str]:
            return (now | (mine - was)) - (was - mine)

        return ToolSettings(
            disabled=merge(self.disabled, base.disabled, theirs.disabled),
            workspace=self.workspace if self.workspace != base.workspace else theirs.workspace,
            always_allowed=merge(self.always_allowed, base.always_allowed, theirs.always_allowed),
        )

    def saver(self) -> Callable[[ToolSettings], None]:
        """Saving for a long-lived surface (the window) that read these settings at
        start: each save merges what changed since its last save into the file as
        it is now (`serve` may have added an "always" meanwhile)."""
        known = [self]

        def save(settings: ToolSettings) -> None:
            from ..config import update_settings

            def change(saved: dict[str, Any]) -> None:
                merged = settings.rebased(known[0], ToolSettings.from_settings(saved))
                saved.update(merged.to_settings())

            update_settings(change)
            known[0] = settings

        return save

    def to_settings(self) -> dict[str, Any]:
        return {
            "tools": {
                "disabled": sorted(self.disabled),
                "workspace": self.workspace,
                "always_allowed": sorted(self.always_allowed),
            }
        }
