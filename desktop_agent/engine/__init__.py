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
    "AgentStatus": "status",
    "Approvals": "approval",
    "AuthenticationError": "model",
    "BadResponseError": "model",
    "ChatChunk": "model",
    "ChatModel": "model",
    "Completion": "model",
    "Done": "events",
    "ErrorReport": "events",
    "Event": "events",
    "EventDispatcher": "dispatcher",
    "EventMeta": "events",
    "EventType": "events",
    "MaxStepsExceeded": "agent",
    "Message": "model",
    "MessageChunk": "events",
    "MessageComplete": "events",
    "ModelConnectionError": "model",
    "ModelError": "model",
    "ModelRequestError": "model",
    "ModelTimeoutError": "model",
    "Orchestrator": "orchestrator",
    "RateLimitError": "model",
    "ReasoningChunk": "events",
    "RetryPolicy": "model",
    "RunHandle": "handle",
    "RunOutcome": "status",
    "ServerError": "model",
    "StateChange": "events",
    "StateUpdate": "stream",
    "StreamEngine": "stream",
    "StreamItem": "stream",
    "StreamMode": "stream",
    "Subscription": "dispatcher",
    "SubscriptionClosed": "dispatcher",
    "SubscriptionOverflow": "dispatcher",
    "TextEvent": "events",
    "Timeouts": "model",
    "Tool": "tools",
    "ToolApprovalRequest": "events",
    "ToolArgumentError": "tools",
    "ToolCallArgs": "events",
    "ToolCallDelta": "model",
    "ToolCallEnd": "events",
    "ToolCallRequest": "events",
    "ToolCallStart": "events",
    "ToolCallState": "state",
    "ToolRegistry": "tools",
    "Usage": "model",
    "ContextReport": "events",
    "ContextLengthError": "model",
    "ContextPolicy": "context",
    "ContextKeeper": "compaction",
    "UsageReport": "events",
    "UserMessage": "events",
    "tool": "tools",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .agent import Agent as Agent
    from .agent import MaxStepsExceeded as MaxStepsExceeded
    from .approval import Approvals as Approvals
    from .compaction import ContextKeeper as ContextKeeper
    from .config import AgentConfig as AgentConfig
    from .context import ContextPolicy as ContextPolicy
    from .dispatcher import EventDispatcher as EventDispatcher
    from .dispatcher import Subscription as Subscription
    from .dispatcher import SubscriptionClosed as SubscriptionClosed
    from .dispatcher import SubscriptionOverflow as SubscriptionOverflow
    from .events import ContextReport as ContextReport
    from .events import Done as Done
    from .events import ErrorReport as ErrorReport
    from .events import Event as Event
    from .events import EventMeta as EventMeta
    from .events import EventType as EventType
    from .events import MessageChunk as MessageChunk
    from .events import MessageComplete as MessageComplete
    from .events import ReasoningChunk as ReasoningChunk
    from .events import StateChange as StateChange
    from .events import TextEvent as TextEvent
    from .events import ToolApprovalRequest as ToolApprovalRequest
    from .events import ToolCallArgs as ToolCallArgs
    from .events import ToolCallEnd as ToolCallEnd
    from .events import ToolCallRequest as ToolCallRequest
    from .events import ToolCallStart as ToolCallStart
    from .events import UsageReport as UsageReport
    from .events import UserMessage as UserMessage
    from .handle import RunHandle as RunHandle
    from .model import AuthenticationError as AuthenticationError
    from .model import BadResponseError as BadResponseError
    from .model import ChatChunk as ChatChunk
    from .model import ChatModel as ChatModel
    from .model import Completion as Completion
    from .model import ContextLengthError as ContextLengthError
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
    from .state import ToolCallState as ToolCallState
    from .status import AgentStatus as AgentStatus
    from .status import RunOutcome as RunOutcome
    from .stream import StateUpdate as StateUpdate
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
