"""The Qt-free streaming agent engine (stdlib only).

Names are imported on first use (PEP 562), so a surface can import one module
(say `engine.state`) without paying for the rest (`asyncio` in particular).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Agent": "agent",
    "AgentConfig": "config",
    "AgentState": "state",
    "AgentStateSnapshot": "state",
    "AgentStatus": "state",
    "Approvals": "approval",
    "AuthenticationError": "model",
    "BadResponseError": "model",
    "ChatChunk": "model",
    "ChatModel": "model",
    "Completion": "model",
    "Event": "events",
    "EventDispatcher": "dispatcher",
    "EventMeta": "events",
    "EventType": "events",
    "MaxStepsExceeded": "agent",
    "Message": "model",
    "ModelConnectionError": "model",
    "ModelError": "model",
    "ModelRequestError": "model",
    "ModelTimeoutError": "model",
    "Orchestrator": "orchestrator",
    "RateLimitError": "model",
    "RetryPolicy": "model",
    "RunHandle": "handle",
    "ServerError": "model",
    "StreamEngine": "stream",
    "StreamItem": "stream",
    "StreamMode": "stream",
    "Subscription": "dispatcher",
    "SubscriptionClosed": "dispatcher",
    "SubscriptionOverflow": "dispatcher",
    "Timeouts": "model",
    "Tool": "tools",
    "ToolArgumentError": "tools",
    "ToolCallDelta": "model",
    "ToolCallState": "state",
    "ToolRegistry": "tools",
    "Usage": "model",
    "tool": "tools",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .agent import Agent as Agent
    from .agent import MaxStepsExceeded as MaxStepsExceeded
    from .approval import Approvals as Approvals
    from .config import AgentConfig as AgentConfig
    from .dispatcher import EventDispatcher as EventDispatcher
    from .dispatcher import Subscription as Subscription
    from .dispatcher import SubscriptionClosed as SubscriptionClosed
    from .dispatcher import SubscriptionOverflow as SubscriptionOverflow
    from .events import Event as Event
    from .events import EventMeta as EventMeta
    from .events import EventType as EventType
    from .handle import RunHandle as RunHandle
    from .model import AuthenticationError as AuthenticationError
    from .model import BadResponseError as BadResponseError
    from .model import ChatChunk as ChatChunk
    from .model import ChatModel as ChatModel
    from .model import Completion as Completion
    from .model import Message as Message
    from .model import ModelConnectionError as ModelConnectionError
    from .model import ModelError as ModelError
    from .model import ModelRequestError as ModelRequestError
    from .model import ModelTimeoutError as ModelTimeoutError
    from .model import RateLimitError as RateLimitError
    from .model import RetryPolicy as RetryPolicy
    from .model import ServerError as ServerError
    from .model import Timeouts as Timeouts
    from .model import ToolCallDelta as ToolCallDelta
    from .model import Usage as Usage
    from .orchestrator import Orchestrator as Orchestrator
    from .state import AgentState as AgentState
    from .state import AgentStateSnapshot as AgentStateSnapshot
    from .state import AgentStatus as AgentStatus
    from .state import ToolCallState as ToolCallState
    from .stream import StreamEngine as StreamEngine
    from .stream import StreamItem as StreamItem
    from .stream import StreamMode as StreamMode
    from .tools import Tool as Tool
    from .tools import ToolArgumentError as ToolArgumentError
    from .tools import ToolRegistry as ToolRegistry
    from .tools import tool as tool


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *_EXPORTS]
