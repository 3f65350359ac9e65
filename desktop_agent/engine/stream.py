"""Views of a run's event stream: `StreamEngine` and its `StreamMode`s.

* `EVENTS` / `INCREMENTAL`: every event.
* `MESSAGES`: the user's message, text as it streams and completed messages
  (`USER_MESSAGE`, `MESSAGE_CHUNK`, `REASONING_CHUNK`, `MESSAGE_COMPLETE`), plus
  `ERROR` and `DONE` so a reader always learns how the run ended.
* `UPDATES`: the state and tool lifecycle (`USER_MESSAGE`, `STATE_CHANGE`,
  `TOOL_CALL_START`, `TOOL_CALL_END`, `TOOL_APPROVAL_REQUEST`, `USAGE`,
  `MESSAGE_COMPLETE`, `ERROR`, `DONE`), each as a `StateUpdate`: the event and
  `changes`, the `AgentState` fields it changed (on the wire: `data["changes"]`).
* `VALUES`: the full `AgentState` after each update. Text that arrived while the
  reader was busy is folded into one snapshot, so a reader gets the latest state
  rather than every intermediate one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from .dispatcher import Subscription
from .events import (
    ContextReport,
    Done,
    ErrorReport,
    Event,
    EventMeta,
    EventType,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    ToolApprovalRequest,
    ToolCallEnd,
    ToolCallStart,
    UsageReport,
    UserMessage,
)
from .state import AgentState

__all__ = ["StateUpdate", "StreamEngine", "StreamItem", "StreamMode"]


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """An item of `StreamMode.UPDATES`: an event and the state fields it changed
    (`AgentState.changes_since`). On the wire it is the event with the changes
    under `data["changes"]`."""

    event: Event
    changes: dict[str, Any]

    @property
    def type(self) -> EventType:
        return self.event.type

    @property
    def meta(self) -> EventMeta:
        return self.event.meta

    @property
    def run_id(self) -> str:
        return self.event.run_id

    @property
    def seq(self) -> int:
        return self.event.seq

    def to_dict(self) -> dict[str, Any]:
        wire = self.event.to_dict()
        wire["data"]["changes"] = self.changes
        return wire


StreamItem = Event | StateUpdate | AgentState


class StreamMode(StrEnum):
    EVENTS = "events"
    INCREMENTAL = "incremental"
    MESSAGES = "messages"
    UPDATES = "updates"
    VALUES = "values"


_MESSAGE_TYPES = (UserMessage, MessageChunk, ReasoningChunk, MessageComplete, ErrorReport, Done)
_UPDATE_TYPES = (
    UserMessage,
    StateChange,
    ToolCallStart,
    ToolCallEnd,
    ToolApprovalRequest,
    UsageReport,
    ContextReport,
    MessageComplete,
    ErrorReport,
    Done,
)


class _HeldRun(Protocol):
    task: asyncio.Task[AgentState]

    def events(self, mode: StreamMode) -> AsyncGenerator[StreamItem, None]: ...

    def cancel(self) -> bool: ...


class _Starts(Protocol):
    """What `stream()` needs of an agent (an `Agent`)."""

    def start(
        self, message: str | None, state: AgentState | None = None, *, tenant_id: str | None = None
    ) -> _HeldRun: ...


class StreamEngine:
    """Runs an agent and yields its stream in one of the `StreamMode`s.

    Stopping the iteration (break, `aclose()`, cancelling the consumer) cancels
    the run: with `stream()` the consumer owns the run. (The `Orchestrator` owns
    its runs instead, and a consumer that goes away only stops watching.)
    """

    def __init__(self, mode: StreamMode | str = StreamMode.EVENTS) -> None:
        self.mode = StreamMode(mode)

    async def stream(
        self,
        agent: _Starts,
        message: str | None,
        state: AgentState | None = None,
        *,
        tenant_id: str | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Run `agent` on `message` and yield its stream; leaving the loop cancels it."""
        handle = agent.start(message, state, tenant_id=tenant_id)
        task = handle.task
        events = handle.events(self.mode)
        try:
            async for item in events:
                yield item
            await task  # re-raise what the run could not turn into events
        finally:
            await events.aclose()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def view(
        self, sub: Subscription, initial: AgentState | Callable[[], AgentState]
    ) -> AsyncIterator[StreamItem]:
        """Apply this engine's mode to the events of a subscription.

        `initial` is the run's starting state (for UPDATES and VALUES), or a
        function that returns it once the run has started.
        """
        mode = self.mode
        if mode in (StreamMode.EVENTS, StreamMode.INCREMENTAL):
            async for event in sub:
                yield event
        elif mode is StreamMode.MESSAGES:
            async for event in sub:
                if isinstance(event, _MESSAGE_TYPES):
                    yield event
        elif mode is StreamMode.UPDATES:
            state: AgentState | None = None
            async for event in sub:
                if state is None:
                    state = initial() if callable(initial) else initial
                new = state.apply(event)
                if isinstance(event, _UPDATE_TYPES):
                    yield StateUpdate(event, new.changes_since(state))
                state = new
        else:
            current: AgentState | None = None
            async for event in sub:
                if current is None:
                    current = initial() if callable(initial) else initial
                    yield current
                current = current.apply(event)
                # Fold what else is already waiting into the same snapshot.
                while (more := sub.recv_nowait()) is not None:
                    current = current.apply(more)
                yield current
