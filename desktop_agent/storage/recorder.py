"""The recorder: writes what the event stream says into the store.

It listens to the dispatcher (`add_listener`: called in order, as each event is
published), so the store is never behind the stream for structural events and no
surface writes messages itself. Each tenant is a conversation (tenant_id =
conversation id); a run that answers a user message starts with `UserMessage`,
which is stored under its `message_id`.

Streamed text is kept in memory and checkpointed at least every `checkpoint_s`
(0.5 s): a process killed mid-answer loses at most that much of it, and the next
start shows the message as interrupted. MESSAGE_COMPLETE writes the final text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.dispatcher import EventDispatcher
from ..engine.events import (
    ContextReport,
    Done,
    ErrorReport,
    Event,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    ToolCallEnd,
    UsageReport,
    UserMessage,
)
from .model_requests import add_request, update_request
from .store import Store

__all__ = ["Recorder"]


_log = logging.getLogger(__name__)

_FINISH_STATUS = {"cancelled": "cancelled", "error": "failed"}


@dataclass
class _Streaming:
    """The assistant message a run is streaming."""

    message_id: str
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    stored: bool = False  # its row exists
    dirty: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclass
class _RunRecord:
    conversation_id: str
    user_message_id: str | None = None
    last_assistant_id: str | None = None
    streaming: _Streaming | None = None
    request_n: int | None = None  # the model_requests row of the request under way


class Recorder:
    """Records every run published on `dispatcher` into `store`.

    Args:
        on_error: told once per failure to write (the message says what was lost);
            recording goes on with the next event.
    """

    def __init__(
        self,
        store: Store,
        dispatcher: EventDispatcher,
        *,
        checkpoint_s: float = 0.5,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.checkpoint_s = checkpoint_s
        self.on_error = on_error
        self._runs: dict[str, _RunRecord] = {}
        self._remove: Callable[[], None] | None = None

    def start(self) -> None:
        if self._remove is None:
            self._remove = self.dispatcher.add_listener(self._on_event)

    def stop(self) -> None:
        """Stop listening; text still in memory is written now."""
        if self._remove is not None:
            self._remove()
            self._remove = None
        for record in self._runs.values():
            self._checkpoint(record)

    # -- events -------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        # Any failure (not only the store's: a text SQLite cannot take, a bug) costs
        # this event, never the listener: the dispatcher removes a listener that raises,
        # which would end recording for the whole session.
        try:
            self._handle(event)
        except Exception as exc:
            _log.exception("history: could not record %s", event.type)
            if self.on_error is not None:
                self.on_error(f"Could not save to the history ({event.type.value}): {exc}")

    def _handle(self, event: Event) -> None:
        record = self._runs.get(event.run_id)
        if record is None:
            record = self._runs[event.run_id] = _RunRecord(event.tenant_id)
            self.store.ensure_conversation(event.tenant_id)
        match event:
            case UserMessage():
                record.user_message_id = self.store.add_message(
                    record.conversation_id,
                    "user",
                    event.content,
                    message_id=event.message_id,
                    run_id=event.run_id,
                )
                if event.attachments:
                    self.store.link_attachments(event.message_id, event.attachments)
            case MessageChunk() | ReasoningChunk():
                streaming = self._streaming(record, event.message_id, event.run_id)
                parts = streaming.text if isinstance(event, MessageChunk) else streaming.reasoning
                parts.append(event.chunk)
                self._schedule(record, streaming)
            case MessageComplete():
                self._complete(record, event)
            case ToolCallEnd():
                self.store.add_message(
                    record.conversation_id,
                    "tool",
                    event.content,
                    message_id=f"{event.run_id}:{event.call_id}",
                    tool_call_id=event.call_id,
                    tool_name=event.tool_name,
                    status="failed" if event.error else "complete",
                    error=event.error,
                    run_id=event.run_id,
                )
            case ContextReport():
                record.request_n = add_request(
                    self.store,
                    record.conversation_id,
                    event.run_id,
                    tokens=event.tokens,
                    context_window=event.window,
                    reserve=event.reserve,
                    strategy=event.strategy,
                    sent=event.sent,
                    dropped=event.dropped,
                    dropped_tokens=event.dropped_tokens,
                    summary=event.summary,
                    retry=int(event.retry),
                )
            case UsageReport():
                if record.last_assistant_id is not None:
                    self.store.update_message(
                        record.last_assistant_id,
                        prompt_tokens=event.prompt_tokens,
                        completion_tokens=event.completion_tokens,
                    )
                self._record_usage(record, event)
            case ErrorReport():
                target = record.last_assistant_id or record.user_message_id
                if target is not None:
                    self.store.update_message(target, error=event.error)
            case Done():
                self._checkpoint(record)
                self._runs.pop(event.run_id, None)
                self.store.touch(record.conversation_id)

    def _record_usage(self, record: _RunRecord, event: UsageReport) -> None:
        figures: dict[str, object] = {
            "answer_id": record.last_assistant_id,
            "prompt_tokens": event.prompt_tokens,
            "completion_tokens": event.completion_tokens,
            "estimated": int(event.estimated),
            "first_token_ms": event.first_token_ms,
            "tokens_per_second": event.tokens_per_second,
            "cost": event.cost,
        }
        if record.request_n is None:
            add_request(self.store, record.conversation_id, event.run_id, **figures)
        else:
            update_request(self.store, record.request_n, **figures)
        record.request_n = None

    def _streaming(self, record: _RunRecord, message_id: str, run_id: str) -> _Streaming:
        streaming = record.streaming
        if streaming is None or streaming.message_id != message_id:
            self._checkpoint(record)
            streaming = record.streaming = _Streaming(message_id)
        if not streaming.stored:
            self.store.add_message(
                record.conversation_id,
                "assistant",
                message_id=message_id,
                status="partial",
                run_id=run_id,
            )
            streaming.stored = True
            record.last_assistant_id = message_id
        return streaming

    def _schedule(self, record: _RunRecord, streaming: _Streaming) -> None:
        streaming.dirty = True
        if streaming.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # published outside a loop: write now
                self._checkpoint(record)
                return
            streaming.timer = loop.call_later(self.checkpoint_s, self._timed, record)

    def _timed(self, record: _RunRecord) -> None:
        try:
            self._checkpoint(record)
        except Exception as exc:
            _log.exception("history: checkpoint failed")
            if self.on_error is not None:
                self.on_error(f"Could not save the answer so far: {exc}")

    def _checkpoint(self, record: _RunRecord) -> None:
        streaming = record.streaming
        if streaming is None:
            return
        if streaming.timer is not None:
            streaming.timer.cancel()
            streaming.timer = None
        if streaming.dirty and streaming.stored:
            self.store.update_message(
                streaming.message_id,
                content="".join(streaming.text),
                reasoning="".join(streaming.reasoning),
            )
        streaming.dirty = False

    def _complete(self, record: _RunRecord, event: MessageComplete) -> None:
        message_id = event.message_id
        content = event.content
        calls = [c.to_dict() for c in event.tool_calls] or None
        status = _FINISH_STATUS.get(event.finish_reason, "complete")
        streaming = record.streaming
        if streaming is not None and streaming.message_id == message_id:
            if streaming.timer is not None:
                streaming.timer.cancel()
            record.streaming = None
            stored = streaming.stored
        else:
            stored = False
        if not stored:
            if not (content or calls or event.reasoning):
                return  # nothing was said (stopped before the first token)
            self.store.add_message(
                record.conversation_id,
                "assistant",
                content,
                message_id=message_id,
                reasoning=event.reasoning,
                tool_calls=calls,
                status=status,
                run_id=event.run_id,
            )
            record.last_assistant_id = message_id
            return
        self.store.update_message(
            message_id,
            content=content,
            reasoning=event.reasoning,
            tool_calls=calls,
            status=status,
        )
