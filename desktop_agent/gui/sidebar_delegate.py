"""How a row of the conversation list is drawn: the title elided to the width (the
list never scrolls sideways), ● when answering / ⚠ when waiting for an approval, a
group label (Today, Yesterday, Previous 7 days, Older) above the first row of each
group, and Rename / Delete buttons on the row under the mouse or the current one
(the keys F2 and Delete do the same)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Signal
from PySide6.QtGui import QIcon, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

__all__ = ["GROUPS", "RowDelegate", "group_of"]

GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")
ROW_HEIGHT = 36
LABEL_HEIGHT = 28
BUTTON = 24

_Index = QModelIndex | QPersistentModelIndex


def group_of(stamp: float, now: float | None = None) -> str:
    """The group of a conversation last changed at `stamp` (local midnights)."""
    now = time.time() if now is None else now
    today = time.localtime(now)
    midnight = time.mktime((today.tm_year, today.tm_mon, today.tm_mday, 0, 0, 0, 0, 0, -1))
    if stamp >= midnight:
        return GROUPS[0]
    if stamp >= midnight - 86400:
        return GROUPS[1]
    if stamp >= midnight - 7 * 86400:
        return GROUPS[2]
    return GROUPS[3]


class RowDelegate(QStyledItemDelegate):
    rename_clicked = Signal(int)  # row
    delete_clicked = Signal(int)  # row

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.hovered = -1
        self.icons: dict[str, QIcon] = {}

    # -- groups ---------------------------------------------------------------------

    def _group(self, row: int) -> str:
        model: Any = self.view.model()
        return group_of(model.rows[row].updated_at)

    def starts_group(self, row: int) -> bool:
        """The first row shown of its group (hidden rows, filtered out, don't count)."""
        previous = row - 1
        while previous >= 0 and self.view.isRowHidden(previous):
            previous -= 1
        return previous < 0 or self._group(previous) != self._group(row)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        extra = LABEL_HEIGHT if self.starts_group(index.row()) else 0
        return QSize(0, ROW_HEIGHT + extra)  # width 0: never wider than the view

    # -- painting -------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        from PySide6.QtCore import Qt

        rect = QRect(option.rect)
        palette: QPalette = option.palette
        row = index.row()
        if self.starts_group(row):
            label_rect = QRect(rect.left() + 8, rect.top(), rect.width() - 8, LABEL_HEIGHT)
            painter.save()
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 0.85)
            font.setWeight(font.Weight.DemiBold)
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
            painter.drawText(label_rect.adjusted(0, 0, 0, -4), int(flags), self._group(row))
            painter.restore()
            rect.setTop(rect.top() + LABEL_HEIGHT)
        item = QStyleOptionViewItem(option)
        item.rect = rect
        self.initStyleOption(item, index)
        show_buttons = row == self.hovered or bool(item.state & QStyle.StateFlag.State_Selected)
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        room = rect.width() - 16 - (2 * BUTTON + 8 if show_buttons else 0)
        metrics = item.fontMetrics
        item.text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(room, 0))
        style = self.view.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, self.view)
        if show_buttons and self.icons:
            for what, button_rect in self.button_rects(rect).items():
                self.icons[what].paint(painter, button_rect.adjusted(3, 3, -3, -3))

    def button_rects(self, rect: QRect) -> dict[str, QRect]:
        top = rect.top() + (rect.height() - BUTTON) // 2
        delete = QRect(rect.right() - BUTTON - 4, top, BUTTON, BUTTON)
        rename = QRect(delete.left() - BUTTON - 2, top, BUTTON, BUTTON)
        return {"rename": rename, "delete": delete}

    def updateEditorGeometry(self, editor: Any, option: Any, index: _Index) -> None:
        rect = QRect(option.rect)
        if self.starts_group(index.row()):
            rect.setTop(rect.top() + LABEL_HEIGHT)
        editor.setGeometry(rect)

    def editorEvent(self, event: QEvent, model: Any, option: Any, index: _Index) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            rect = QRect(option.rect)
            if self.starts_group(index.row()):
                rect.setTop(rect.top() + LABEL_HEIGHT)
            point = event.position().toPoint()
            for what, button_rect in self.button_rects(rect).items():
                if button_rect.contains(point) and self.icons:
                    signal = self.rename_clicked if what == "rename" else self.delete_clicked
                    signal.emit(index.row())
                    return True
        return super().editorEvent(event, model, option, index)
