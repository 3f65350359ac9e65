"""The conversation views in the window's stack: the one on screen, and those
whose run goes on behind it. A view of an idle conversation that is not on screen
is dropped (rebuilt from the history when opened again).

The first view (a new conversation, which shows the empty state) is built after the
first paint, or when first needed: the transcript's modules cost ~14 ms to import
and the view ~9 ms to build (see `defer_new`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStackedWidget

if TYPE_CHECKING:
    from ..engine.dispatcher import EventDispatcher
    from ..storage import Store
    from .colors import Theme
    from .conversation import ConversationView

__all__ = ["ConversationViews", "new_conversation_id"]


def new_conversation_id() -> str:
    """A new conversation's id: "c-" and a random (version 4) UUID's hex, made without
    `import uuid` (it imports `platform`, ~3 ms, and the first conversation is made
    before the first paint)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return f"c-{raw.hex()}"


class ConversationViews(QObject):
    """Args:
    stack: where the transcripts are shown.
    theme: the transcript's colours as they are now (asked for as each view is made).
    assistant_label: a conversation id -> the name its answers are shown under.
    """

    made = Signal(object)  # a new ConversationView (connect its transcript's signals)
    shown = Signal(object)  # the ConversationView now on screen
    busy_changed = Signal(object, bool)  # a view started (True) or ended a run
    activity_changed = Signal()  # the view on screen: its status or tool activity
    run_finished = Signal(object)  # a view whose run ended
    approval_waiting = Signal(object)  # a view whose run waits for an approval
    user_message_shown = Signal(object, object)  # (a view, the UserMessage it now shows)

    def __init__(
        self,
        stack: QStackedWidget,
        *,
        theme: Callable[[], Theme],
        frame_ms: float,
        assistant_label: Callable[[str], str],
    ) -> None:
        super().__init__(stack)
        self._stack = stack
        self._theme = theme
        self._frame_ms = frame_ms
        self._assistant_label = assistant_label
        self._store: Store | None = None
        self._dispatcher: EventDispatcher | None = None
        self.by_id: dict[str, ConversationView] = {}
        self._current: ConversationView | None = None
        self._pending: str | None = None  # a new conversation on screen, not built yet

    def defer_new(self) -> None:
        """A new conversation is on screen, its view built when first needed (`current`)
        or by `build`: the window paints its empty state first."""
        self._pending = new_conversation_id()

    @property
    def built(self) -> bool:
        """Whether the view on screen exists (False only while `defer_new`'s waits)."""
        return self._current is not None

    @property
    def current_id(self) -> str:
        """The id of the conversation on screen, without building its view."""
        if self._current is None and self._pending is not None:
            return self._pending
        return self.current.conversation_id

    @property
    def current(self) -> ConversationView:
        """The view on screen (built now if it was deferred, or if none was opened)."""
        return self._current if self._current is not None else self.build()

    def build(self) -> ConversationView:
        """The view on screen, built now if `defer_new` left it for later."""
        if self._current is None:
            conversation_id, self._pending = self._pending or new_conversation_id(), None
            self.show(self.make(conversation_id))
        assert self._current is not None
        return self._current

    def attach(self, store: Store | None, dispatcher: EventDispatcher) -> None:
        """The engine exists: views render its events (and read `store`)."""
        self._store, self._dispatcher = store, dispatcher
        for view in self.by_id.values():
            view.store = store
            view.attach(dispatcher)

    async def detach(self) -> None:
        for view in list(self.by_id.values()):
            await view.detach()

    def say(self, text: str, error: bool = False) -> None:
        """A notice (or an error) in the transcript on screen."""
        if error:
            self.current.transcript.add_error(text, retry=False)
        else:
            self.current.transcript.add_notice(text)

    def make(self, conversation_id: str) -> ConversationView:
        from .conversation import ConversationView

        view = ConversationView(
            conversation_id,
            store=self._store,
            theme=self._theme(),
            parent=self._stack,
            frame_ms=self._frame_ms,
            assistant_label=lambda: self._assistant_label(conversation_id),
        )
        if self._dispatcher is not None:
            view.attach(self._dispatcher)
        self._stack.addWidget(view.transcript)
        view.busy_changed.connect(lambda busy: self._busy(view, busy))
        view.approval_requested.connect(lambda _request: self.approval_waiting.emit(view))
        view.user_message_shown.connect(lambda event: self.user_message_shown.emit(view, event))
        view.activity_changed.connect(
            lambda: self.activity_changed.emit() if view is self._current else None
        )
        view.run_finished.connect(lambda _done: self.run_finished.emit(view))
        self.by_id[conversation_id] = view
        self.made.emit(view)
        return view

    def open(self, conversation_id: str | None = None) -> ConversationView:
        """Show a conversation (None: a new one), from the history when not in view."""
        self._pending = None
        view = self.by_id.get(conversation_id) if conversation_id else None
        if view is None:
            view = self.make(conversation_id or new_conversation_id())
            if conversation_id:
                view.load_latest()
        self.show(view)
        return view

    def show(self, view: ConversationView) -> None:
        previous, self._current = self._current, view
        self._stack.setCurrentWidget(view.transcript)
        if previous is not None and previous is not view and not previous.busy:
            self._drop(previous)
        self.shown.emit(view)

    def _drop(self, view: ConversationView) -> None:
        if self.by_id.get(view.conversation_id) is view and view is not self._current:
            del self.by_id[view.conversation_id]
            self._stack.removeWidget(view.transcript)
            view.close()

    def _busy(self, view: ConversationView, busy: bool) -> None:
        self.busy_changed.emit(view, busy)
        if view is not self._current and not busy:  # finished behind: rebuilt when opened
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self, lambda: self._drop(view))
