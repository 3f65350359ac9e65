"""Where data and settings live, and how the app connects to a model.

`DESKTOP_AGENT_HOME` overrides the data directory (else platformdirs' user data
directory). Settings are a JSON file there; API keys are never written to it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ConnectionConfig",
    "data_dir",
    "load_settings",
    "model_from_config",
    "resource_path",
    "save_settings",
]

_log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def resource_path(*parts: str) -> Path:
    """A file of `resources/`: installed as the `desktop_agent/resources` folder,
    or the source checkout's top-level folder when running from it."""
    here = Path(__file__).resolve().parent
    installed = here / "resources"
    root = installed if installed.is_dir() else here.parent / "resources"
    return root.joinpath(*parts)


def data_dir() -> Path:
    """The folder for settings, logs and (later) the conversation store."""
    home = os.environ.get("DESKTOP_AGENT_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("desktop-agent", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class ConnectionConfig:
    """How to reach the model. `api_key` lives in memory only."""

    base_url: str = DEFAULT_BASE_URL
    model: str = "gpt-4o-mini"
    api_key: str = ""
    system_prompt: str = "You are a helpful assistant. Use the tools you have when they help."
    temperature: float | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    @property
    def is_local(self) -> bool:
        host = urlsplit(self.base_url).hostname or ""
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")

    def label(self) -> str:
        """What the window shows: "gpt-4o-mini · api.openai.com"."""
        where = f"{self.host} (this computer)" if self.is_local else self.host
        return f"{self.model} · {where}"

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        model: str | None = None,
        saved: dict[str, Any] | None = None,
    ) -> ConnectionConfig:
        """Flags, then environment, then saved settings, then defaults."""
        saved = saved or {}
        known = {f.name for f in fields(cls)} - {"api_key"}
        base = cls(**{k: v for k, v in saved.items() if k in known})
        return replace(
            base,
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or base.base_url,
            model=model or os.environ.get("DESKTOP_AGENT_MODEL") or base.model,
            api_key=os.environ.get("OPENAI_API_KEY", ""),
        )

    def to_settings(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("api_key")
        return data


def model_from_config(config: ConnectionConfig) -> Any:
    """The `ChatModel` for a connection: `OpenAIClient` (imports openai, ~0.5 s)."""
    from .providers.openai import OpenAIClient

    return OpenAIClient(
        api_key=config.api_key or None,
        model=config.model,
        base_url=config.base_url,
        temperature=config.temperature,
    )


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
    data = {k: v for k, v in data.items() if "key" not in k.lower()}
    path = _settings_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)
