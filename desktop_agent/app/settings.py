"""The settings file (settings.json in the data folder) and the tool settings kept
in it.

Read with `load_settings`; change with `update_settings` (a locked
read-modify-write, since the window and `serve` may both be writing). Whatever
looks like a key is never written (API keys live in the OS keyring).

Tool settings, under "tools":
    {"disabled": ["run_shell"], "workspace": "~/projects/x", "always_allowed": ["write_file"]}
History: "save_history": false keeps `chat` and `serve` (and the window) from
recording conversations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..private_files import file_lock, write_private
from .paths import data_dir

__all__ = ["ToolSettings", "load_settings", "save_settings", "update_settings"]

_log = logging.getLogger(__name__)


def _settings_path() -> Path:
    return data_dir() / "settings.json"


def load_settings() -> dict[str, Any]:
    path = _settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        _log.warning("ignoring unreadable settings file %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def save_settings(data: dict[str, Any]) -> None:
    """Write the whole settings file; whatever looks like a key is dropped, also inside
    providers. A change of some keys should use `update_settings` (the window and
    `serve` may both be writing)."""
    path = _settings_path()
    with file_lock(path.with_name(SETTINGS_LOCK)):
        _write_settings(path, data)


def update_settings(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Read-modify-write under the settings lock: `change` gets the settings as they
    are on disk now (another process may have written since we read) and changes
    only what it means to change, in place. Returns what was written."""
    path = _settings_path()
    with file_lock(path.with_name(SETTINGS_LOCK)):
        data = load_settings()
        change(data)
        return _write_settings(path, data)


#: The lock file beside settings.json (an empty file; the lock is on it).
SETTINGS_LOCK = "settings.lock"


def _write_settings(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = _without_keys(data)
    write_private(path, json.dumps(clean, indent=2))
    return clean


def _without_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_keys(v) for k, v in data.items() if "key" not in str(k).lower()}
    if isinstance(data, list):
        return [_without_keys(v) for v in data]
    return data


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
        start (`serve` may have added an "always" meanwhile): see `rebasing_saver`."""
        return rebasing_saver(self, ToolSettings.from_settings)

    def to_settings(self) -> dict[str, Any]:
        return {
            "tools": {
                "disabled": sorted(self.disabled),
                "workspace": self.workspace,
                "always_allowed": sorted(self.always_allowed),
            }
        }


class Rebasable(Protocol):
    """A part of the settings that can merge its own changes into another copy."""

    def rebased(self, base: Any, theirs: Any) -> Any: ...

    def to_settings(self) -> dict[str, Any]: ...


_Part = TypeVar("_Part", bound=Rebasable)


def rebasing_saver(
    loaded: _Part,
    from_settings: Callable[[dict[str, Any]], _Part],
    snapshot: Callable[[_Part], _Part] = lambda part: part,
) -> Callable[[_Part], None]:
    """Saving for a long-lived surface that read `loaded` at start: each save applies
    only what changed since its last save to the file as it is now (another process
    may have written meanwhile), under the settings lock."""
    known = [snapshot(loaded)]

    def save(part: _Part) -> None:
        mine = snapshot(part)

        def change(saved: dict[str, Any]) -> None:
            saved.update(mine.rebased(known[0], from_settings(saved)).to_settings())

        update_settings(change)
        known[0] = mine

    return save
