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

from PySide6.QtCore import QObject, Signal

from ..engine import EventDispatcher, Subscription, SubscriptionClosed
from ..engine.events import (
    ContextReport,
    Done,
    ErrorReport,
    Event,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    TextEvent,
    ToolApprovalRequest,
    ToolCallArgs,
    ToolCallEnd,
    ToolCallStart,
    UsageReport,
    UserMessage,
)

__all__ = ["EventBridge"]

_log = logging.getLogger(__name__)


class EventBridge(QObject):
    """Turns the events of one conversation into Qt signals; each signal carries
    the event itself (its dataclass), text events merged per frame."""

    user_message = Signal(object)  # UserMessage: the message a run answers
    chunk_received = Signal(object)  # MessageChunk (the frame's chunks merged)
    reasoning_received = Signal(object)  # ReasoningChunk (the frame's chunks merged)
    message_completed = Signal(object)  # MessageComplete
    state_changed = Signal(object)  # StateChange
    tool_args = Signal(object)  # ToolCallArgs (the frame's deltas merged)
    tool_started = Signal(object)  # ToolCallStart
    tool_finished = Signal(object)  # ToolCallEnd
    approval_requested = Signal(object)  # ToolApprovalRequest (its run_id: .run_id)
    usage_reported = Signal(object)  # UsageReport
    context_reported = Signal(object)  # ContextReport
    error_occurred = Signal(object)  # ErrorReport
    run_done = Signal(object)  # Done (its run_id: .run_id)
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
        pending: list[TextEvent] = []  # consecutive pieces of one text stream

        def flush() -> None:
            if not pending:
                return
            first = pending[0]
            event = (
                first
                if len(pending) == 1
                else first.with_text("".join(e.text for e in pending), sum(e.span for e in pending))
            )
            pending.clear()
            if isinstance(event, MessageChunk):
                self.chunk_received.emit(event)
            elif isinstance(event, ReasoningChunk):
                self.reasoning_received.emit(event)
            elif isinstance(event, ToolCallArgs):
                self.tool_args.emit(event)

        for event in batch:
            if isinstance(event, TextEvent):  # text: merge consecutive pieces of one stream
                if pending and (
                    type(pending[0]) is not type(event) or pending[0].stream_key != event.stream_key
                ):
                    flush()
                pending.append(event)
                continue
            flush()
            self._emit_structural(event)
        flush()
        self.frame_delivered.emit(len(batch))

    def _emit_structural(self, event: Event) -> None:
        match event:
            case UserMessage():
                self.user_message.emit(event)
            case StateChange():
                self.state_changed.emit(event)
            case MessageComplete():
                self.message_completed.emit(event)
            case ToolCallStart():
                self.tool_started.emit(event)
            case ToolCallEnd():
                self.tool_finished.emit(event)
            case ToolApprovalRequest():
                self.approval_requested.emit(event)
            case UsageReport():
                self.usage_reported.emit(event)
            case ContextReport():
                self.context_reported.emit(event)
            case ErrorReport():
                self.error_occurred.emit(event)
            case Done():
                self.run_done.emit(event)
