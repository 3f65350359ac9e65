"""The conversation list: a search field on top (titles, as you type; Ctrl+K),
newest first in groups (Today, Yesterday, Previous 7 days, Older), renameable in
place (F2 or the pencil on the row), deletable with undo (Delete or the bin),
exportable; conversations with a run going are marked ●, those waiting for an
approval ⚠. Titles are elided: the list never scrolls sideways.

A list model over plain tuples, not a widget per row: 5,000 conversations list in
a few milliseconds (tests/bench/bench_history.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from .sidebar_delegate import RowDelegate

__all__ = ["ConversationList", "Row", "Sidebar"]

_Index = QModelIndex | QPersistentModelIndex


class Row(NamedTuple):  # (a dataclass would cost ~1 ms to make before the first paint)
    id: str
    title: str
    updated_at: float
    live: bool = False
    waiting: bool = False  # a tool waits for the user's approval there


def _when(stamp: float) -> str:
    now = time.time()
    if now - stamp < 86400 and time.localtime(now).tm_mday == time.localtime(stamp).tm_mday:
        return time.strftime("%H:%M", time.localtime(stamp))
    if now - stamp < 7 * 86400:
        return time.strftime("%a", time.localtime(stamp))
    return time.strftime("%d %b", time.localtime(stamp))


class ConversationList(QAbstractListModel):
    """Rows of the sidebar; edits of a title come out as `renamed`."""

    renamed = Signal(str, str)  # conversation id, new title

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: _Index, role: int = 0) -> Any:
        from PySide6.QtCore import Qt

        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            mark = "⚠ " if row.waiting else "● " if row.live else ""
            return f"{mark}{row.title or 'New conversation'}"
        if role == Qt.ItemDataRole.EditRole:
            return row.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.title}\n{_when(row.updated_at)}"
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        return None

    def flags(self, index: _Index) -> Any:
        from PySide6.QtCore import Qt

        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    def setData(self, index: _Index, value: Any, role: int = 0) -> bool:
        from PySide6.QtCore import Qt

        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        title = " ".join(str(value).split())
        if not title:
            return False
        row = self.rows[index.row()]
        self.rows[index.row()] = row._replace(title=title)
        self.dataChanged.emit(index, index)
        self.renamed.emit(row.id, title)
        return True

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row_of(self, conversation_id: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.id == conversation_id), -1)

    def upsert(self, row: Row) -> None:
        """Put `row` first (it is the most recent), replacing an older copy."""
        old = self.row_of(row.id)
        if old == 0:
            self.rows[0] = row
            self.dataChanged.emit(self.index(0), self.index(0))
            return
        if old > 0:
            self.beginRemoveRows(QModelIndex(), old, old)
            del self.rows[old]
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), 0, 0)
        self.rows.insert(0, row)
        self.endInsertRows()

    def remove(self, conversation_id: str) -> Row | None:
        old = self.row_of(conversation_id)
        if old < 0:
            return None
        self.beginRemoveRows(QModelIndex(), old, old)
        row = self.rows.pop(old)
        self.endRemoveRows()
        return row

    def set_live(self, conversation_id: str, live: bool, *, waiting: bool = False) -> None:
        """Mark a conversation answering (●), or waiting for an approval (⚠)."""
        i = self.row_of(conversation_id)
        if i >= 0 and (self.rows[i].live, self.rows[i].waiting) != (live, waiting):
            self.rows[i] = self.rows[i]._replace(live=live, waiting=waiting)
            self.dataChanged.emit(self.index(i), self.index(i))


class Sidebar(QWidget):
    """The search field, New conversation and the list."""

    activated = Signal(str)  # conversation id to open
    new_requested = Signal()
    search_messages = Signal(str)  # Enter in the search field with no title matching
    delete_requested = Signal(str)  # conversation id
    export_requested = Signal(str, str)  # conversation id, "md" | "json"
    move_requested = Signal(str)  # conversation id: choose its project

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setAccessibleName("Conversations")
        self.model = ConversationList(self)
        self.new_button = QPushButton("+  New conversation", self)
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.new_button.setAccessibleDescription("Start a new conversation")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit(self)
        self.search.setAccessibleName("Search conversations")
        self.search.setAccessibleDescription(
            "Filters the list by title as you type; Enter opens the first match, "
            "or searches the messages when no title matches"
        )
        self.search.setPlaceholderText("Search (Ctrl+K)")
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._search_entered)
        self.view = QListView(self)
        self.view.setAccessibleName("Conversation list")
        self.view.setAccessibleDescription("F2 renames, Delete deletes, Enter opens")
        self.view.setModel(self.model)
        self.delegate: RowDelegate | None = None  # (in `finish_setup`, after the first paint)
        self.model.modelReset.connect(self._refilter)
        self.model.rowsInserted.connect(self._refilter)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.view.activated.connect(self._activated)
        self.view.clicked.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 4)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.new_button)
        layout.addWidget(self.view, 1)
        self.setMinimumWidth(200)  # (LOOK.md: 200-480, 260 at first)

    def finish_setup(self) -> None:
        """What needs the `Qt` namespace: done after the first paint (see app.py)."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence

        from .sidebar_delegate import RowDelegate

        self.search.setClearButtonEnabled(True)  # (its icon loads: after the first paint)
        for button in self.search.findChildren(QToolButton):  # (the clear button)
            button.setAccessibleName("Clear the search")
        self.delegate = RowDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.delegate.rename_clicked.connect(self._rename_later)
        self.delegate.delete_clicked.connect(
            lambda row: self.delete_requested.emit(self.model.rows[row].id)
        )
        self.view.setMouseTracking(True)
        self.view.entered.connect(self._hover)
        # titles are elided by the delegate: never a horizontal scrollbar
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        delete = QAction("Delete conversation", self.view)
        delete.setShortcut(QKeySequence("Delete"))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self._delete_selected)
        self.view.addAction(delete)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        """The row buttons' icons in the palette's text colour (after the first paint)."""
        from PySide6.QtGui import QPalette

        from .icons import icon

        colour = self.palette().color(QPalette.ColorRole.Text).name()
        if self.delegate is not None:
            try:
                self.delegate.icons = {what: icon(what, colour) for what in ("rename", "delete")}
            except (RuntimeError, OSError, ValueError, KeyError):
                pass  # no icon font: the rows keep F2 / Delete and their tooltips
        self.view.viewport().update()

    # -- search ---------------------------------------------------------------------

    def focus_search(self) -> None:
        """Ctrl+K: the search field, its text selected."""
        self.search.setFocus()
        self.search.selectAll()

    def filter(self, text: str) -> None:
        """Show only the conversations whose title contains `text` (any case)."""
        needle = text.casefold().strip()
        for i, row in enumerate(self.model.rows):
            title = (row.title or "New conversation").casefold()
            self.view.setRowHidden(i, bool(needle) and needle not in title)
        self.view.doItemsLayout()  # group labels follow the rows shown

    def _refilter(self, *_args: object) -> None:
        if self.search.text():
            self.filter(self.search.text())

    def visible_ids(self) -> list[str]:
        return [r.id for i, r in enumerate(self.model.rows) if not self.view.isRowHidden(i)]

    def _search_entered(self) -> None:
        shown = self.visible_ids()
        if shown:
            self.activated.emit(shown[0])
        elif self.search.text().strip():
            self.search_messages.emit(self.search.text().strip())

    def _hover(self, index: QModelIndex) -> None:
        if self.delegate is not None:
            self.delegate.hovered = index.row() if index.isValid() else -1
        self.view.viewport().update()

    def leaveEvent(self, event: Any) -> None:
        if self.delegate is not None:
            self.delegate.hovered = -1
        self.view.viewport().update()
        super().leaveEvent(event)

    def _rename_later(self, row: int) -> None:
        """(After the click that asked for it is done: the view ends its mouse
        handling by closing editors.)"""
        from PySide6.QtCore import QTimer

        conversation_id = self.model.rows[row].id
        QTimer.singleShot(0, self, lambda: self.rename(conversation_id))

    def target(self) -> str | None:
        """The row F2 is about: the current one while the list has the focus."""
        return self.selected_id() if self.view.hasFocus() else None

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.activated.emit(self.model.rows[index.row()].id)

    def selected_id(self) -> str | None:
        index = self.view.currentIndex()
        return self.model.rows[index.row()].id if index.isValid() else None

    def select(self, conversation_id: str | None) -> None:
        row = self.model.row_of(conversation_id) if conversation_id else -1
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row))
        else:
            self.view.clearSelection()
            self.view.setCurrentIndex(QModelIndex())

    def rename(self, conversation_id: str) -> None:
        row = self.model.row_of(conversation_id)
        if row >= 0:
            self.view.setFocus()
            self.view.setCurrentIndex(self.model.index(row))
            self.view.edit(self.model.index(row))

    def _delete_selected(self) -> None:
        conversation_id = self.selected_id()
        if conversation_id:
            self.delete_requested.emit(conversation_id)

    def _menu(self, point: Any) -> None:
        index = self.view.indexAt(point)
        if not index.isValid():
            return
        conversation_id = self.model.rows[index.row()].id
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.rename(conversation_id))
        menu.addAction(
            "Export as Markdown…", lambda: self.export_requested.emit(conversation_id, "md")
        )
        menu.addAction(
            "Export as JSON…", lambda: self.export_requested.emit(conversation_id, "json")
        )
        menu.addAction("Move to project…", lambda: self.move_requested.emit(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(conversation_id))
        menu.popup(self.view.viewport().mapToGlobal(point))
