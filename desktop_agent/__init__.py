"""desktop-agent: a desktop client for tool-calling LLM agents, and its streaming engine.

Everything here is re-exported from `desktop_agent.engine` (stdlib only), plus
`OpenAIClient`. Names are imported on first use (PEP 562): the window is on
screen before `asyncio` is imported, and long before `openai` (~0.5 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine import __all__ as _engine_all

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .engine import *  # noqa: F403
    from .providers.openai import OpenAIClient

__all__ = [*_engine_all, "OpenAIClient", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "OpenAIClient":
        from .providers.openai import OpenAIClient

        return OpenAIClient
    if name in _engine_all:
        from . import engine

        value = getattr(engine, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'desktop_agent' has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*globals(), *__all__]
