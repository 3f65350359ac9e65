"""Views of a run's event stream: `StreamEngine` and its `StreamMode`s.

* `EVENTS` / `INCREMENTAL`: every event.
* `MESSAGES`: text as it streams and completed messages (`MESSAGE_CHUNK`,
  `REASONING_CHUNK`, `MESSAGE_COMPLETE`), plus `ERROR` and `DONE` so a reader
  always learns how the run ended.
* `UPDATES`: the state and tool lifecycle (`STATE_CHANGE`, `TOOL_CALL_START`,
  `TOOL_CALL_END`, `TOOL_APPROVAL_REQUEST`, `USAGE`, `MESSAGE_COMPLETE`, `ERROR`,
  `DONE`), each with `data["changes"]`: the `AgentState` fields it changed.
* `VALUES`: the full `AgentState` after each update. Text that arrived while the
  reader was busy is folded into one snapshot, so a reader gets the latest state
  rather than every intermediate one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from .dispatcher import Subscription
from .events import Event, EventType
from .state import AgentState

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["StreamEngine", "StreamItem", "StreamMode"]

StreamItem = Event | AgentState


class StreamMode(StrEnum):
    EVENTS = "events"
    INCREMENTAL = "incremental"
    MESSAGES = "messages"
    UPDATES = "updates"
    VALUES = "values"


_MESSAGE_TYPES = frozenset(
    {
        EventType.MESSAGE_CHUNK,
        EventType.REASONING_CHUNK,
        EventType.MESSAGE_COMPLETE,
        EventType.ERROR,
        EventType.DONE,
    }
)
_UPDATE_TYPES = frozenset(
    {
        EventType.STATE_CHANGE,
        EventType.TOOL_CALL_START,
        EventType.TOOL_CALL_END,
        EventType.TOOL_APPROVAL_REQUEST,
        EventType.USAGE,
        EventType.MESSAGE_COMPLETE,
        EventType.ERROR,
        EventType.DONE,
    }
)


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
        agent: Agent,
        message: str | None,
        state: AgentState | None = None,
        *,
        tenant_id: str | None = None,
    ) -> AsyncIterator[StreamItem]:
        initial = agent.begin(message, state, tenant_id=tenant_id)
        assert initial.run_id is not None
        sub = agent.dispatcher.subscribe(run_id=initial.run_id)
        task = asyncio.ensure_future(agent.run(initial))
        try:
            async for item in self.view(sub, initial):
                yield item
            await task  # re-raise what the run could not turn into events
        finally:
            sub.close()
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
                if event.type in _MESSAGE_TYPES:
                    yield event
        elif mode is StreamMode.UPDATES:
            state: AgentState | None = None
            async for event in sub:
                if state is None:
                    state = initial() if callable(initial) else initial
                new = state.apply(event)
                if event.type in _UPDATE_TYPES:
                    data = dict(event.data)
                    data["changes"] = new.changes_since(state)
                    yield Event(event.type, data, event.meta)
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
