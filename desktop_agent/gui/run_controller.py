"""What the composer and the transcript's buttons do to the conversation on
screen: send (a new version when a message is being edited), stop, regenerate
(the last answer or any other), edit, switch versions, delete from a message on
(Ctrl+Z undoes). The conversation operations are the session's
(`ConversationActions`); this draws what they change."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .approval_controller import ApprovalController
from .attach_input import AttachInput, send_with_attachments
from .conversation_list_controller import ConversationListController
from .conversation_pane import ConversationPane
from .conversation_views import ConversationViews
from .status import ToolStatusBar

if TYPE_CHECKING:
    from ..app.session import Session
    from .conversation import ConversationView

__all__ = ["RunController"]


class RunController(QObject):
    """Args:
    session: the window's session (None until it has started).
    """

    def __init__(
        self,
        views: ConversationViews,
        pane: ConversationPane,
        status: ToolStatusBar,
        conversations: ConversationListController,
        approvals: ApprovalController,
        session: Callable[[], Session | None],
    ) -> None:
        super().__init__(views)
        self._views, self._pane = views, pane
        self._composer = composer = pane.composer
        self._status = status
        self._conversations = conversations
        self._approvals = approvals
        self._session = session
        self.editing: str | None = None  # key of the user message being edited
        self.pending: list[str] = []  # messages sent before the session was ready
        #: Files going with the next message (gui/attach_input.py; set by the window).
        self.attach: AttachInput | None = None
        composer.submitted.connect(self.send)
        composer.edit_last_requested.connect(self.edit_last)
        pane.send_button.clicked.connect(
            lambda: self.cancel() if self._views.current.busy else composer.submit()
        )
        views.made.connect(self._made)

    def _made(self, view: ConversationView) -> None:
        view.transcript.retry_requested.connect(self.regenerate)
        view.transcript.regenerate_requested.connect(self.regenerate_answer)
        view.transcript.delete_requested.connect(self.delete_from)
        view.transcript.version_requested.connect(self.switch_version)
        view.transcript.edit_requested.connect(self.edit_message)

    def _submit(self, text: str | None) -> str:
        """Start a run in the conversation on screen; returns its run id."""
        session = self._session()
        assert session is not None
        view = self._views.current
        if text is not None and self.attach is not None and self.attach.tray.chips:
            handle = send_with_attachments(self.attach, session, view, self._composer, text)
            if handle is None:
                return ""
            view.begin_run()
            return str(handle.run_id)
        view.begin_run()
        handle = session.conversations.send(view.conversation_id, text)
        if text is None:  # (a message is shown, and listed, when its event arrives)
            self._conversations.sent(view.conversation_id, None)
        return handle.run_id

    def send(self, text: str) -> None:
        """Send a message in the conversation on screen; it shows (in the transcript
        and the list) when the run publishes it, on the next turn of the loop."""
        text = text.strip()
        view = self._views.current
        if (not text and not (self.attach and self.attach.tray.chips)) or view.busy:
            return
        session = self._session()
        if session is None:
            self.pending.append(text)
            # (a banner, not a transcript entry: the window clears it once connected)
            self._pane.show_banner("Connecting… your message will be sent in a moment.")
            return
        if self.editing is not None:
            self._branch_before(self.editing)
            self.editing = None
        self._submit(text)

    def send_pending(self) -> None:
        pending, self.pending = self.pending, []
        for text in pending:
            self.send(text)

    def _branch_before(self, key: str) -> None:
        """Editing the user message `key`: the next message becomes its new version
        (a sibling), so the history continues from the message before it."""
        session = self._session()
        assert session is not None
        orchestrator, transcript = session.orchestrator, self._views.current.transcript
        conversation_id = self._views.current.conversation_id
        entry = transcript.entry(key)
        if not session.conversations.branch_before(conversation_id, key):
            # no history store: cut the orchestrator's history at that message
            history = list(orchestrator.messages(conversation_id))
            users = [i for i, m in enumerate(history) if m.get("role") == "user"]
            shown = [e for e in transcript.entries if e.kind == "user"]
            if entry in shown and len(users) == len(shown):
                cut = users[shown.index(entry)]
                orchestrator.set_messages(conversation_id, history[:cut])
        if entry is not None:
            transcript.truncate(entry)

    def cancel(self) -> None:
        """The Stop button: stop the answer (a tool waiting for approval won't run)."""
        session = self._session()
        if session is not None:
            session.orchestrator.cancel(self._views.current.conversation_id)

    def stop(self) -> None:
        """Esc: deny a tool waiting for approval; else stop the answer (or leave
        editing when nothing runs)."""
        if self._approvals.pending():
            self._approvals.answer(None, "deny")
        elif self._views.current.busy and self._session() is not None:
            self.cancel()
        elif self.editing is not None:
            self.editing = None
            self._composer.clear()

    def regenerate(self) -> None:
        """Ctrl+R / Retry: answer the last user message again (a new version)."""
        session = self._session()
        view = self._views.current
        if view.busy or session is None:
            return
        conversation_id, transcript = view.conversation_id, view.transcript
        entry = transcript.last("user")
        if entry is None or not session.conversations.rewind_to(conversation_id, entry.key):
            history = list(session.orchestrator.messages(conversation_id))
            last = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=None)
            if last is None:
                return
            session.orchestrator.set_messages(conversation_id, history[: last + 1])
        if entry is not None:
            index = transcript.entries.index(entry)
            if index + 1 < len(transcript.entries):
                transcript.truncate(transcript.entries[index + 1])
        self._submit(None)

    def regenerate_answer(self, key: str) -> None:
        """Regenerate on an answer (any, not only the last): a new version of it, under
        the same parent; the transcript continues with it."""
        from ..app.conversations import ConversationBusyError

        session = self._session()
        view = self._views.current
        if session is None:
            return
        if view.busy:
            self._status.showMessage("Wait for the answer (or stop it) to regenerate", 4000)
            return
        transcript = view.transcript
        entry = transcript.entry(key)
        try:
            handle = session.conversations.regenerate_answer(view.conversation_id, key)
        except ConversationBusyError as exc:
            self._status.showMessage(str(exc), 4000)
            return
        if handle is None:  # not stored (history off): the last answer as before
            if entry is not None and entry is transcript.last("assistant"):
                self.regenerate()
            return
        if entry is not None:
            transcript.truncate(entry)
        view.begin_run()
        self._conversations.sent(view.conversation_id, None)

    def delete_from(self, key: str) -> None:
        """Delete from here: the message `key` and everything after it (Ctrl+Z undoes)."""
        from ..app.conversations import ConversationBusyError

        session = self._session()
        view = self._views.current
        if session is None or session.store is None:
            self._status.showMessage("Messages can be deleted only when the history is kept", 4000)
            return
        if view.busy:
            self._status.showMessage(
                "The conversation is answering: stop it (Esc) before deleting messages", 5000
            )
            return
        try:
            count = session.conversations.delete_from(view.conversation_id, key)
        except ConversationBusyError as exc:
            self._status.showMessage(str(exc), 5000)
            return
        if count:
            view.load_latest()
            self._status.showMessage(
                f"Deleted {count} message{'s' if count != 1 else ''} — Ctrl+Z to undo", 8000
            )
            view.transcript.announce(f"Deleted {count} messages. Control Z undoes.")

    def undo(self) -> None:
        """Ctrl+Z: undo the latest delete, of messages or of a conversation."""
        from ..app.conversations import ConversationBusyError

        session = self._session()
        if session is None or session.conversations.next_undo() != "messages":
            self._conversations.undo_delete()
            return
        try:
            undone = session.conversations.undo()
        except ConversationBusyError as exc:
            self._status.showMessage(str(exc), 5000)
            return
        if undone is None:
            self._status.showMessage("The deleted messages are gone", 3000)
            return
        view = self._views.current
        if view.conversation_id == undone[1]:
            view.load_latest()
        else:
            self._conversations.open_requested.emit(undone[1])
        self._status.showMessage("Messages restored", 3000)

    def edit_last(self) -> None:
        """Up in an empty composer: bring back the last message to edit and resend."""
        entry = self._views.current.transcript.last("user")
        if entry is not None:
            self.edit_message(entry.key)

    def edit_message(self, key: str) -> None:
        """Edit a sent message: Enter sends the new version, Esc cancels."""
        view = self._views.current
        if view.busy:
            return
        entry = view.transcript.entry(key)
        if entry is None or entry.kind != "user":
            return
        self.editing = key
        self._composer.setPlainText(entry.source)
        self._composer.moveCursor(self._composer.textCursor().MoveOperation.End)
        self._composer.setFocus()
        self._status.showMessage(
            "Editing your message: Enter sends a new version, Esc cancels", 4000
        )

    def switch_version(self, key: str, step: int) -> None:
        """◀ ▶ on a message: show its previous or next version."""
        session = self._session()
        if session is None or session.store is None:
            return
        view = self._views.current
        if view.busy:
            self._status.showMessage("Versions can be switched when the answer is done", 3000)
            return
        if session.conversations.switch_version(view.conversation_id, key, step):
            view.load_latest()

    def copy_last_answer(self) -> None:
        from PySide6.QtGui import QGuiApplication

        answer = self._views.current.transcript.last_answer()
        if answer:
            QGuiApplication.clipboard().setText(answer)
            self._status.showMessage("Last answer copied", 2000)

    def focus_composer(self) -> None:
        from PySide6.QtCore import Qt

        self._composer.setFocus(Qt.FocusReason.ShortcutFocusReason)
