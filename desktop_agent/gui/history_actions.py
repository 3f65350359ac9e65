"""The window's conversation actions: the history opened at start, switching,
new, rename, delete with undo, the Ctrl+K switcher, export, versions ◀ ▶.
(A mixin of `MainWindow`; `WindowParts` is what it uses of the window.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from .sidebar import Row
from .window_parts import WindowParts

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ..storage import Store
    from .conversation import ConversationView

__all__ = ["HistoryActions"]


class HistoryActions:
    store: Store | None  # (set by `_open_history`; the window's attribute)

    def _open_history(self: WindowParts) -> None:
        if self._history_factory is None:
            return
        from ..storage import StoreError

        try:
            store = self._history_factory()
        except StoreError as exc:
            self.transcript.add_error(
                f"{exc} Conversations are not saved in this session.", retry=False
            )
            self.sidebar.setVisible(False)
            return
        self.store = store
        store.purge_deleted()  # deleted in an earlier session: past undoing
        self.sidebar.model.set_rows(
            [Row(c.id, c.title, c.updated_at) for c in store.conversations()]
        )

    def _history_error(self: WindowParts, message: str) -> None:
        self.status.showMessage(message, 10000)

    def _run_finished(self: WindowParts, view: ConversationView) -> None:
        """A run ended: its conversation's row shows the stored title and time."""
        if self.store is None:
            return
        conv = self.store.conversation(view.conversation_id)
        if conv is not None:
            row = self.sidebar.model.row_of(conv.id)
            if row >= 0:
                self.sidebar.model.rows[row] = Row(conv.id, conv.title, conv.updated_at)
                index = self.sidebar.model.index(row)
                self.sidebar.model.dataChanged.emit(index, index)
        if view is self.current:
            self._update_labels()

    def switch_version(self: WindowParts, key: str, step: int) -> None:
        """◀ ▶ on a message: show its previous or next version."""
        if self.store is None:
            return
        if self.busy:
            self.status.showMessage("Versions can be switched when the answer is done", 3000)
            return
        actions = self.conversation_actions
        if actions is None or not actions.switch_version(self.tenant_id, key, step):
            return
        self.current.load_latest()

    def open_conversation(self: WindowParts, conversation_id: str) -> None:
        """Show a conversation (a run in the one left goes on, in the background)."""
        if conversation_id == self.tenant_id:
            return
        view = self.views.get(conversation_id)
        if view is None:
            view = self._make_view(conversation_id)
            view.load_latest()
        self._show_view(view)
        self.conversation_opened.emit(conversation_id)
        self.composer.setFocus()

    def new_conversation(self: WindowParts) -> None:
        """Ctrl+N: a fresh conversation (a run elsewhere goes on unwatched)."""
        if not self.current.transcript.entries and self.tenant_id not in self._stored_ids():
            self.composer.setFocus()
            return  # already on an empty one
        view = self._make_view(_new_conversation_id())
        self._show_view(view)
        self.composer.setFocus()

    def _stored_ids(self: WindowParts) -> set[str]:
        return {row.id for row in self.sidebar.model.rows}

    def open_switcher(self: WindowParts) -> None:
        if self.store is None:
            return
        from .switcher import QuickSwitcher

        dialog = QuickSwitcher(self.store, cast("QWidget", self))
        dialog.chosen.connect(self.open_conversation)
        self._keep(dialog)
        dialog.open()

    def rename_conversation(self: WindowParts) -> None:
        if self.tenant_id in self._stored_ids():
            self.sidebar.rename(self.tenant_id)

    def _renamed(self: WindowParts, conversation_id: str, title: str) -> None:
        if self.conversation_actions is not None and self.store is not None:
            self.conversation_actions.rename(conversation_id, title)
            self._update_labels()

    def delete_conversation(self: WindowParts, conversation_id: str) -> None:
        """Delete (hidden at once; Ctrl+Z brings it back until the app restarts)."""
        if self.store is None:
            return
        if self.orchestrator is not None and self.orchestrator.busy(conversation_id):
            self.orchestrator.cancel(conversation_id)
        self.store.delete(conversation_id)
        row = self.sidebar.model.remove(conversation_id)
        self._deleted.append(conversation_id)
        if conversation_id == self.tenant_id:
            self._show_view(self._make_view(_new_conversation_id()))
        title = row.title if row else "the conversation"
        self.status.showMessage(f"Deleted “{title}” — Ctrl+Z to undo", 8000)

    def undo_delete(self: WindowParts) -> None:
        if self.store is None or not self._deleted:
            return
        conversation_id = self._deleted.pop()
        self.store.restore(conversation_id)
        self.sidebar.model.set_rows(
            [Row(c.id, c.title, c.updated_at) for c in self.store.conversations()]
        )
        self.open_conversation(conversation_id)
        self.status.showMessage("Conversation restored", 3000)

    def export_conversation(
        self: WindowParts, conversation_id: str | None = None, fmt: str = "md"
    ) -> None:
        """Save a conversation as Markdown or JSON (a file dialog asks where)."""
        if self.store is None:
            return
        conversation_id = conversation_id or self.tenant_id
        conv = self.store.conversation(conversation_id)
        if conv is None:
            self.status.showMessage("Nothing to export yet", 3000)
            return
        from PySide6.QtWidgets import QFileDialog

        name = "".join(c if c.isalnum() or c in " -_" else "_" for c in conv.title)[:60].strip()
        suffix = "md" if fmt == "md" else "json"
        dialog = QFileDialog(
            cast("QWidget", self),
            "Export conversation",
            f"{name or 'conversation'}.{suffix}",
            "Markdown (*.md)" if fmt == "md" else "JSON (*.json)",
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.write_export(conversation_id, fmt, path))
        self._keep(dialog)
        dialog.open()  # not exec(): the asyncio loop runs on Qt's

    def write_export(self: WindowParts, conversation_id: str, fmt: str, path: str) -> None:
        from pathlib import Path

        from ..storage.export import dumps, to_json, to_markdown

        assert self.store is not None
        text = (
            to_markdown(self.store, conversation_id)
            if fmt == "md"
            else dumps(to_json(self.store, conversation_id)) + "\n"
        )
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as exc:
            self.status.showMessage(f"Could not export: {exc.strerror or exc}", 8000)
            return
        self.status.showMessage(f"Exported to {path}", 5000)


def _new_conversation_id() -> str:
    import uuid

    return f"c-{uuid.uuid4().hex}"
