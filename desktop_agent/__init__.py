"""desktop-agent: a desktop client for tool-calling LLM agents, and its streaming engine.

Everything here is re-exported from `desktop_agent.engine` (stdlib only), except
`OpenAIClient`, which is imported on first use: `import openai` costs ~0.5 s, and
the window must be on screen before that.
"""

from typing import TYPE_CHECKING, Any

from .engine import *  # noqa: F403
from .engine import __all__ as _engine_all

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .providers.openai import OpenAIClient

__all__ = [*_engine_all, "OpenAIClient", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "OpenAIClient":
        from .providers.openai import OpenAIClient

        return OpenAIClient
    raise AttributeError(f"module 'desktop_agent' has no attribute {name!r}")
