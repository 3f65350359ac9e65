"""EventBridge: engine events -> typed Qt signals, text coalesced per frame.

The bridge reads a dispatcher subscription on the asyncio loop (qasync runs it
on the Qt loop). The first event after a quiet spell is delivered at once; after
that the bridge delivers at most once per `frame_ms`, merging the pending
`MESSAGE_CHUNK`s (and reasoning chunks, and tool-argument deltas) of one message
into one signal. So the window does a bounded number of updates per second at
any token rate, and the text it receives is exactly what the model sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..engine import Event, EventDispatcher, EventType, Subscription, SubscriptionClosed
from ..engine.events import MERGEABLE_TYPES

__all__ = ["EventBridge"]

_log = logging.getLogger(__name__)


class EventBridge(QObject):
    """Turns the events of one conversation into Qt signals."""

    chunk_received = Signal(str, str)  # message_id, text (merged chunks)
    reasoning_received = Signal(str, str)  # message_id, text (merged chunks)
    message_completed = Signal(dict)  # MESSAGE_COMPLETE data: message_id, content, finish_reason
    state_changed = Signal(str, str)  # old_status, new_status
    tool_args = Signal(str, str, str)  # call_id, tool_name, argument text delta (merged)
    tool_started = Signal(dict)  # TOOL_CALL_START data: call_id, tool_name, arguments
    tool_finished = Signal(
        dict
    )  # TOOL_CALL_END data: call_id, tool_name, result, error, duration_ms
    approval_requested = Signal(dict)  # TOOL_APPROVAL_REQUEST data: call_id, tool_name, arguments
    usage_reported = Signal(dict)  # USAGE data: prompt_tokens, completion_tokens, total_tokens
    error_occurred = Signal(dict)  # ERROR data: error, error_type, recoverable
    run_done = Signal(dict)  # DONE data + run_id: status, duration_ms, usage
    frame_delivered = Signal(int)  # how many events the frame carried (for measurements)

    def __init__(
        self,
        dispatcher: EventDispatcher,
        *,
        tenant_id: str | None = None,
        frame_ms: float = 33.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if not 1 <= frame_ms <= 1000:
            raise ValueError("frame_ms must be between 1 and 1000")
        self._dispatcher = dispatcher
        self.frame_s = frame_ms / 1000
        self.tenant_id = tenant_id
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.frames = 0
        self.events = 0

    def start(self) -> None:
        """Begin watching (call with the asyncio loop running or about to run)."""
        if self._task is not None:
            return
        self._sub = self._dispatcher.subscribe(tenant_id=self.tenant_id, maxsize=4096)
        self._task = asyncio.ensure_future(self._pump())

    def stop(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        task = self._task
        self.stop()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self) -> None:
        sub = self._sub
        assert sub is not None
        last = 0.0
        while True:
            try:
                first = await sub.recv()
            except SubscriptionClosed:
                return
            wait = last + self.frame_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            batch = [first, *sub.drain_nowait()]
            last = time.monotonic()
            try:
                self._deliver(batch)
            except Exception:  # a slot raised: report it, keep the bridge alive
                _log.exception("a transcript update failed")

    def _deliver(self, batch: list[Event]) -> None:
        self.frames += 1
        self.events += len(batch)
        pending: tuple[EventType, str, str] | None = None  # (type, key, tool name)
        parts: list[str] = []

        def flush() -> None:
            nonlocal pending
            if pending is None:
                return
            kind, key, name = pending
            text = "".join(parts)
            if kind is EventType.MESSAGE_CHUNK:
                self.chunk_received.emit(key, text)
            elif kind is EventType.REASONING_CHUNK:
                self.reasoning_received.emit(key, text)
            else:
                self.tool_args.emit(key, name, text)
            pending = None
            parts.clear()

        for event in batch:
            spec = MERGEABLE_TYPES.get(event.type)
            if spec is not None:  # text: merge consecutive pieces of one stream
                key_field, text_field = spec
                key = event.data[key_field]
                if pending is None or pending[0] is not event.type or pending[1] != key:
                    flush()
                    pending = (event.type, key, event.data.get("tool_name", ""))
                parts.append(event.data[text_field])
                continue
            flush()
            self._emit_structural(event)
        flush()
        self.frame_delivered.emit(len(batch))

    def _emit_structural(self, event: Event) -> None:
        kind = event.type
        data: dict[str, Any] = event.data
        if kind is EventType.STATE_CHANGE:
            self.state_changed.emit(data["old_status"], data["new_status"])
        elif kind is EventType.MESSAGE_COMPLETE:
            self.message_completed.emit(data)
        elif kind is EventType.TOOL_CALL_START:
            self.tool_started.emit(data)
        elif kind is EventType.TOOL_CALL_END:
            self.tool_finished.emit(data)
        elif kind is EventType.TOOL_APPROVAL_REQUEST:
            self.approval_requested.emit({**data, "run_id": event.run_id})
        elif kind is EventType.USAGE:
            self.usage_reported.emit(data)
        elif kind is EventType.ERROR:
            self.error_occurred.emit(data)
        elif kind is EventType.DONE:
            self.run_done.emit({**data, "run_id": event.run_id})
