"""One conversation on screen (or streaming behind another): its transcript, the
bridge that feeds it, its status, and the pages of stored history it shows.

A view lives while its conversation is shown or has a run going: switching away
from a streaming conversation keeps its view (hidden) fed by its own bridge, so
coming back shows the answer live, exactly as far as it has got. Views of idle
conversations are dropped and rebuilt from the store when opened again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from .colors import Theme
from .context_meter import ConversationFigures
from .status import Activity
from .transcript import Transcript
from .transcript_thumbnails import AttachmentBytes, add_thumbnails

if TYPE_CHECKING:
    from ..engine.dispatcher import EventDispatcher
    from ..engine.events import (
        Done,
        ErrorReport,
        MessageChunk,
        MessageComplete,
        ReasoningChunk,
        StateChange,
        ToolApprovalRequest,
        ToolCallEnd,
        ToolCallStart,
        UserMessage,
    )
    from ..storage import Store, StoredMessage
    from .bridge import EventBridge

__all__ = ["PAGE_SIZE", "ConversationView"]

#: Messages rendered when a conversation opens, and per page when scrolling up.
PAGE_SIZE = 40
_FINISH = {"cancelled": "cancelled", "failed": "error", "interrupted": "interrupted"}


class ConversationView(QObject):
    """A conversation's transcript and live state."""

    busy_changed = Signal(bool)  # a run started (True) or ended (False)
    activity_changed = Signal()  # status or tool activity changed
    user_message_shown = Signal(object)  # UserMessage: a run's message is on screen
    run_finished = Signal(object)  # Done
    approval_requested = Signal(object)  # ToolApprovalRequest
    error_reported = Signal(object)  # ErrorReport: a run reported an error

    def __init__(
        self,
        conversation_id: str,
        *,
        store: Store | None,
        theme: Theme,
        parent: QWidget,
        frame_ms: float = 33.0,
        assistant_label: Callable[[], str] = lambda: "Assistant",
    ) -> None:
        super().__init__(parent)
        self.conversation_id = conversation_id
        self.store = store
        self.transcript = Transcript(parent, theme)
        self.activity = Activity()
        self.busy = False
        self.assistant_label = assistant_label
        self.oldest_id: str | None = None
        self.has_more = False
        self._loading = False
        self._frame_ms = frame_ms
        self.bridge: EventBridge | None = None
        self.figures = ConversationFigures(self)  # context and usage (the status bar's)
        self.transcript.verticalScrollBar().valueChanged.connect(self._maybe_load_older)
        self._attachment_bytes = AttachmentBytes(lambda: self.store)
        self.transcript.image_requested.connect(self._open_image)
        self.viewer: QDialog | None = None  # the last image opened at full size

    def attach(self, dispatcher: EventDispatcher) -> None:
        """Start rendering the conversation's events (once the engine exists)."""
        from .bridge import EventBridge

        if self.bridge is not None:
            return
        b = self.bridge = EventBridge(
            dispatcher, tenant_id=self.conversation_id, frame_ms=self._frame_ms, parent=self
        )
        b.user_message.connect(self._on_user)
        b.chunk_received.connect(self._on_chunk)
        b.reasoning_received.connect(self._on_reasoning)
        b.message_completed.connect(self._on_complete)
        b.state_changed.connect(self._on_state)
        b.tool_started.connect(self._on_tool_start)
        b.tool_finished.connect(self._on_tool_end)
        b.error_occurred.connect(self._on_error)
        b.approval_requested.connect(self._on_approval)
        b.run_done.connect(self._on_done)
        self.figures.follow(b)
        b.start()

    async def detach(self) -> None:
        """Stop rendering events (closing the window)."""
        if self.bridge is not None:
            await self.bridge.aclose()

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.stop()
        self.transcript.hide()
        self.transcript.deleteLater()
        self.deleteLater()

    # -- runs -------------------------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def begin_run(self) -> None:
        self.activity.begin_run()
        self.set_busy(True)
        self.activity_changed.emit()

    def _open_image(self, sha256: str, name: str) -> None:
        """A thumbnail was clicked: the picture at full size, in the app."""
        data = self._attachment_bytes.get(sha256)
        if data is not None:
            from .image_viewer import ImageViewer

            self.viewer = ImageViewer(data, name, self.transcript.window())
            self.viewer.open()

    def _ensure_assistant(self, message_id: str) -> None:
        if self.transcript.entry(message_id) is None:
            self.transcript.begin_assistant(message_id, self.assistant_label())

    def _on_user(self, event: UserMessage) -> None:
        # Without a store there are no versions to edit between: no edit link.
        key = event.message_id if self.store is not None else None
        refs = [dict(a) for a in event.attachments]
        if refs:
            add_thumbnails(self.transcript, refs, self._attachment_bytes)
        self.transcript.add_user(event.content, key=key, attachments=refs or None)
        self.user_message_shown.emit(event)

    def _on_chunk(self, event: MessageChunk) -> None:
        self._ensure_assistant(event.message_id)
        self.transcript.append_chunk(event.message_id, event.chunk)

    def _on_reasoning(self, event: ReasoningChunk) -> None:
        self._ensure_assistant(event.message_id)
        self.transcript.append_reasoning(event.message_id, event.chunk)

    def _on_complete(self, event: MessageComplete) -> None:
        message_id = event.message_id
        if self.transcript.entry(message_id) is None and not event.content:
            return  # a message that only called tools
        self._ensure_assistant(message_id)
        entry = self.transcript.entry(message_id)
        if event.reasoning and entry is not None:
            entry.reasoning = event.reasoning
        self.transcript.complete_assistant(message_id, event.content, event.finish_reason)
        if event.content and self.transcript.isVisible():
            self.transcript.announce("Answer complete")

    def _on_state(self, event: StateChange) -> None:
        self.activity.set_status(event.new_status)
        if event.new_status.busy:
            self.set_busy(True)
        self.activity_changed.emit()

    def _on_tool_start(self, event: ToolCallStart) -> None:
        shown = f"{event.tool_name} · run by the agent" if event.ran_by else event.tool_name
        self.transcript.add_tool_call(event.call_id, shown, event.arguments)
        self.activity.tool_started(event.call_id, event.tool_name, event.arguments)
        self.activity_changed.emit()

    def _on_tool_end(self, event: ToolCallEnd) -> None:
        error = event.error
        if error and event.call_id in self.transcript.pending_approvals():
            self.transcript.resolve_approval(event.call_id, error.capitalize())
        duration = event.duration_ms
        self.transcript.finish_tool_call(
            event.call_id, event.tool_name, event.result, error, duration
        )
        self.activity.tool_finished(event.call_id, event.tool_name, error, duration)
        self.activity_changed.emit()

    def _on_approval(self, event: ToolApprovalRequest) -> None:
        self.transcript.add_approval(event.call_id, event.tool_name, event.arguments)
        self.transcript.announce(
            f"{event.tool_name} waits for your approval: Enter allows once, Esc denies",
            assertive=True,
        )
        self.approval_requested.emit(event)

    def _on_error(self, event: ErrorReport) -> None:
        self.transcript.add_error(event.error, retry=True)
        self.transcript.announce(f"Error: {event.error}", assertive=True)
        self.error_reported.emit(event)

    def _on_done(self, event: Done) -> None:
        for call_id in self.transcript.pending_approvals():
            self.transcript.resolve_approval(call_id, "The run ended before an answer.")
        self.activity.set_status(event.status.final_status)
        self.set_busy(False)
        self.activity_changed.emit()
        self.refresh_versions()
        self.run_finished.emit(event)

    # -- stored history -----------------------------------------------------------------

    def load_latest(self) -> None:
        """Show the latest page of the stored conversation."""
        self.transcript.clear_all()
        self.oldest_id, self.has_more = None, False
        if self.store is None:
            return
        messages, more = self.store.page(self.conversation_id, limit=PAGE_SIZE)
        self._render(messages)
        self.has_more = more
        self.oldest_id = messages[0].id if messages else None
        bar = self.transcript.verticalScrollBar()
        bar.setValue(bar.maximum())
        if more:  # a short page may not fill the window: keep loading while it doesn't
            QTimer.singleShot(0, self, self._maybe_load_older)

    def load_older(self) -> bool:
        """Put the page before the oldest shown message on top; False if none."""
        if self.store is None or not self.has_more or self.oldest_id is None or self._loading:
            return False
        self._loading = True
        try:
            messages, more = self.store.page(
                self.conversation_id, before=self.oldest_id, limit=PAGE_SIZE
            )
            with self.transcript.inserting_at_top():
                self._render(messages)
            self.has_more = more
            if messages:
                self.oldest_id = messages[0].id
        finally:
            self._loading = False
        return True

    def _maybe_load_older(self, *_args: object) -> None:
        bar = self.transcript.verticalScrollBar()
        near_top = bar.value() <= self.transcript.viewport().height()
        if self.has_more and near_top and self.load_older():
            QTimer.singleShot(0, self, self._maybe_load_older)

    def _render(self, messages: list[StoredMessage]) -> None:
        assert self.store is not None
        versions = self.store.versions(messages)
        arguments: dict[str, Any] = {}
        t = self.transcript
        attached = self.store.attachments_of(m.id for m in messages if m.role == "user")
        for m in messages:
            if m.role == "user":
                refs = attached.get(m.id)
                if refs:
                    add_thumbnails(t, refs, self._attachment_bytes)
                t.add_user(m.content, key=m.id, versions=versions.get(m.id), attachments=refs)
            elif m.role == "assistant":
                for call in m.tool_calls or []:
                    arguments[call["id"]] = _parsed(call.get("arguments"))
                if not (m.content or m.reasoning) and m.status == "complete":
                    continue  # it only called tools: their entries follow
                entry = t.begin_assistant(m.id, self.assistant_label())
                entry.versions = versions.get(m.id)
                entry.reasoning = m.reasoning
                t.complete_assistant(m.id, m.content, _FINISH.get(m.status))
            elif m.role == "tool" and m.tool_call_id:
                key = m.tool_call_id if t.entry(m.tool_call_id) is None else m.id
                t.add_tool_call(key, m.tool_name or "tool", arguments.get(m.tool_call_id))
                failed = m.status == "failed"
                result = None if failed else m.content
                t.finish_tool_call(
                    key, m.tool_name or "tool", result, m.error if failed else None, -1
                )
            if m.error and m.role != "tool":
                t.add_error(m.error, retry=False)

    def refresh_versions(self) -> None:
        """Show ◀ n/m ▶ on the last messages (after an edit or a regeneration)."""
        if self.store is None:
            return
        messages, _more = self.store.page(self.conversation_id, limit=12)
        found = self.store.versions(messages)
        for m in messages:
            if m.role in ("user", "assistant"):
                self.transcript.set_versions(m.id, found.get(m.id))


def _parsed(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments
