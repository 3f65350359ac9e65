"""The Qt-free streaming agent engine (stdlib only)."""

from .agent import Agent, MaxStepsExceeded
from .dispatcher import EventDispatcher, Subscription, SubscriptionClosed, SubscriptionOverflow
from .events import Event, EventMeta, EventType
from .model import (
    AuthenticationError,
    BadResponseError,
    ChatChunk,
    ChatModel,
    Completion,
    Message,
    ModelConnectionError,
    ModelError,
    ModelRequestError,
    ModelTimeoutError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeouts,
    ToolCallDelta,
    Usage,
)
from .orchestrator import Orchestrator, RunHandle
from .state import AgentState, AgentStateSnapshot, AgentStatus, ToolCallState
from .stream import StreamEngine, StreamItem, StreamMode
from .tools import Tool, ToolArgumentError, ToolRegistry, tool

__all__ = [
    "Agent",
    "AgentState",
    "AgentStateSnapshot",
    "AgentStatus",
    "AuthenticationError",
    "BadResponseError",
    "ChatChunk",
    "ChatModel",
    "Completion",
    "Event",
    "EventDispatcher",
    "EventMeta",
    "EventType",
    "MaxStepsExceeded",
    "Message",
    "ModelConnectionError",
    "ModelError",
    "ModelRequestError",
    "ModelTimeoutError",
    "Orchestrator",
    "RateLimitError",
    "RetryPolicy",
    "RunHandle",
    "ServerError",
    "StreamEngine",
    "StreamItem",
    "StreamMode",
    "Subscription",
    "SubscriptionClosed",
    "SubscriptionOverflow",
    "Timeouts",
    "Tool",
    "ToolArgumentError",
    "ToolCallDelta",
    "ToolCallState",
    "ToolRegistry",
    "Usage",
    "tool",
]
