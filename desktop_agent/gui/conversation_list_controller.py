"""The list of kept conversations and what is done to them from the window: rows
from the history, a row per message sent and per run finished, rename (F2),
delete with undo (Ctrl+Z), export (a file dialog asks where), the Ctrl+K switcher.
The operations themselves are the session's (`ConversationActions`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from .sidebar import Row, Sidebar
from .status import ToolStatusBar

if TYPE_CHECKING:
    from ..app.conversations import ConversationActions
    from ..storage import Store

__all__ = ["ConversationListController"]


class ConversationListController(QObject):
    """Args:
    show_dialog: opens a dialog without blocking the loop (the window keeps it).
    """

    open_requested = Signal(str)  # a conversation to show (chosen, restored)
    deleted = Signal(str)  # a conversation was deleted
    renamed = Signal(str)  # a conversation has a new title

    def __init__(
        self,
        sidebar: Sidebar,
        status: ToolStatusBar,
        show_dialog: Callable[[QDialog], QDialog],
    ) -> None:
        super().__init__(sidebar)
        self._sidebar = sidebar
        self._status = status
        self._show_dialog = show_dialog
        self.store: Store | None = None
        self.actions: ConversationActions | None = None
        sidebar.delete_requested.connect(self.delete)
        sidebar.export_requested.connect(lambda cid, fmt: self.export(cid, fmt))
        sidebar.model.renamed.connect(self._renamed)

    def open_history(self, factory: Callable[[], Store] | None) -> tuple[Store | None, str]:
        """The history, or None and why (the list is hidden: nothing is kept)."""
        if factory is None:
            return None, ""
        from ..storage import StoreError

        try:
            return factory(), ""
        except StoreError as exc:
            self._sidebar.setVisible(False)
            return None, f"{exc} Conversations are not saved in this session."

    def attach(self, store: Store | None, actions: ConversationActions) -> None:
        self.store, self.actions = store, actions
        if store is not None:
            self._reload()

    def reload(self) -> None:
        """List the history again (after conversations were added from outside)."""
        if self.store is not None:
            self._reload()

    def _reload(self) -> None:
        assert self.store is not None
        self._sidebar.model.set_rows(
            [Row(c.id, c.title, c.updated_at) for c in self.store.conversations()]
        )

    def stored_ids(self) -> set[str]:
        return {row.id for row in self._sidebar.model.rows}

    def title_of(self, conversation_id: str) -> str:
        """The stored title, else the row the list shows ("" when none)."""
        if self.store is None:
            return ""
        conv = self.store.conversation(conversation_id)
        if conv is not None and conv.title:
            return conv.title
        row = self._sidebar.model.row_of(conversation_id)
        return self._sidebar.model.rows[row].title if row >= 0 else ""

    def sent(self, conversation_id: str, text: str | None) -> None:
        """A run started: the conversation is listed (live) and selected."""
        if self.store is None:
            return
        conv = self.store.conversation(conversation_id)
        title = (conv.title if conv else "") or (text or "")
        self._sidebar.model.upsert(Row(conversation_id, title, _now(), live=True))
        self._sidebar.select(conversation_id)

    def finished(self, conversation_id: str) -> None:
        """A run ended: the row shows the stored title and time."""
        conv = self.store.conversation(conversation_id) if self.store is not None else None
        model = self._sidebar.model
        row = model.row_of(conversation_id)
        if conv is not None and row >= 0:
            model.rows[row] = Row(conv.id, conv.title, conv.updated_at)
            model.dataChanged.emit(model.index(row), model.index(row))

    def rename(self, conversation_id: str) -> None:
        if conversation_id in self.stored_ids():
            self._sidebar.rename(conversation_id)

    def _renamed(self, conversation_id: str, title: str) -> None:
        if self.actions is not None and self.store is not None:
            self.actions.rename(conversation_id, title)
            self.renamed.emit(conversation_id)

    def delete(self, conversation_id: str) -> None:
        """Delete (hidden at once; Ctrl+Z brings it back until the app restarts)."""
        if self.actions is None or not self.actions.delete(conversation_id):
            return
        row = self._sidebar.model.remove(conversation_id)
        self.deleted.emit(conversation_id)
        title = row.title if row else "the conversation"
        self._status.showMessage(f"Deleted “{title}” — Ctrl+Z to undo", 8000)

    def undo_delete(self) -> None:
        conversation_id = self.actions.undo_delete() if self.actions is not None else None
        if conversation_id is None:
            return
        self._reload()
        self.open_requested.emit(conversation_id)
        self._status.showMessage("Conversation restored", 3000)

    def open_switcher(self) -> QDialog | None:
        """Ctrl+K: search titles and messages, Enter opens."""
        if self.store is None:
            return None
        from .switcher import QuickSwitcher

        dialog = QuickSwitcher(self.store, self._sidebar.window())
        dialog.chosen.connect(self.open_requested)
        return self._show_dialog(dialog)

    def export(self, conversation_id: str, fmt: str = "md") -> QDialog | None:
        """Save a conversation as Markdown or JSON: the file dialog asking where."""
        conv = self.store.conversation(conversation_id) if self.store is not None else None
        if self.store is None:
            return None
        if conv is None:
            self._status.showMessage("Nothing to export yet", 3000)
            return None
        from PySide6.QtWidgets import QFileDialog

        name = "".join(c if c.isalnum() or c in " -_" else "_" for c in conv.title)[:60].strip()
        suffix = "md" if fmt == "md" else "json"
        dialog = QFileDialog(
            self._sidebar.window(),
            "Export conversation",
            f"{name or 'conversation'}.{suffix}",
            "Markdown (*.md)" if fmt == "md" else "JSON (*.json)",
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self.write_export(conversation_id, fmt, path))
        return self._show_dialog(dialog)

    def write_export(self, conversation_id: str, fmt: str, path: str) -> None:
        from pathlib import Path

        assert self.actions is not None
        try:
            Path(path).write_text(self.actions.export(conversation_id, fmt), encoding="utf-8")
        except (OSError, LookupError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else None
            self._status.showMessage(f"Could not export: {reason or exc}", 8000)
            return
        self._status.showMessage(f"Exported to {path}", 5000)


def _now() -> float:
    import time

    return time.time()
