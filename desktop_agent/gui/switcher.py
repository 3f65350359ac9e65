"""Ctrl+K: find a conversation by its title or by anything said in it (SQLite FTS5),
and open it with Enter. Empty: the most recent ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from ..storage import Store

__all__ = ["QuickSwitcher"]

LIMIT = 50


class QuickSwitcher(QDialog):
    """A search box over the history; `chosen` names the conversation to open."""

    chosen = Signal(str)  # conversation id

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to conversation")
        self.setAccessibleName("Go to conversation")
        self.store = store
        self.query = QLineEdit(self)
        self.query.setPlaceholderText("Search titles and messages…")
        self.query.setAccessibleName("Search conversations")
        self.results = QListWidget(self)
        self.results.setAccessibleName("Matching conversations")
        self.hint = QLabel("", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.hint)
        self.query.textChanged.connect(self.search)
        self.query.returnPressed.connect(self._choose)
        self.results.itemActivated.connect(lambda _item: self._choose())
        self.query.installEventFilter(self)
        self.resize(560, 420)
        self.search("")

    def search(self, text: str) -> None:
        from PySide6.QtCore import Qt

        self.results.clear()
        for hit in self.store.search(text, limit=LIMIT):
            label = hit.title or "New conversation"
            if hit.snippet:
                label += "\n    " + " ".join(hit.snippet.split())
            item = QListWidgetItem(label, self.results)
            item.setData(Qt.ItemDataRole.UserRole, hit.conversation_id)
        count = self.results.count()
        if count:
            self.results.setCurrentRow(0)
        self.hint.setText(
            "No conversation matches."
            if text.strip() and not count
            else "Enter opens · Esc closes · ↑↓ choose"
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in the search box move through the results."""
        from PySide6.QtCore import Qt

        if watched is self.query and event.type() == QEvent.Type.KeyPress:
            key = event.key()  # type: ignore[attr-defined]
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.results.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def _choose(self) -> None:
        from PySide6.QtCore import Qt

        item = self.results.currentItem()
        if item is None:
            return
        conversation_id: Any = item.data(Qt.ItemDataRole.UserRole)
        self.chosen.emit(str(conversation_id))
        self.accept()
