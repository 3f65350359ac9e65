"""The composer: where the user types. Enter sends, Shift+Enter adds a line,
Up in an empty composer brings back the last message for editing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy, QWidget

if TYPE_CHECKING:  # (made on demand: see app.py, start-up)
    from PySide6.QtCore import QMimeData

__all__ = ["Composer"]


class Composer(QPlainTextEdit):
    submitted = Signal(str)  # the text to send (stripped; empty only with attachments)
    edit_last_requested = Signal()  # Up was pressed in an empty composer
    confirm_requested = Signal()  # Enter in an empty composer while a run is busy

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.setAccessibleName("Message")
        self.setAccessibleDescription("Type a message. Enter sends, Shift+Enter adds a line.")
        self.setPlaceholderText("Message the agent…  (Enter to send, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(line * 3 + 16)
        #: While a run is busy the text stays editable (draft the next message) but
        #: Enter does not send; the window sets this from the run's state.
        self.busy = False
        #: Attachments (gui/attach_input.py): takes pasted or dropped files and image
        #: data (True: taken), and says whether a message without text may be sent.
        self.mime_handler: Callable[[QMimeData], bool] | None = None
        self.has_attachments: Callable[[], bool] = lambda: False

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if self.mime_handler is not None and self.mime_handler(source):
            return
        super().insertFromMimeData(source)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt  # here, not at import: see app.py (start-up)

        key = event.key()
        mods = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if mods == Qt.KeyboardModifier.NoModifier or mods == Qt.KeyboardModifier.KeypadModifier:
                if self.busy and not self.toPlainText().strip():
                    self.confirm_requested.emit()  # (allows a tool waiting for approval)
                    return
                self.submit()
                return
        if (
            key == Qt.Key.Key_Up
            and not self.toPlainText()
            and mods == Qt.KeyboardModifier.NoModifier
        ):
            self.edit_last_requested.emit()
            return
        super().keyPressEvent(event)

    def fill(self, text: str) -> None:
        """Put `text` in the composer (a suggestion), the cursor at its end."""
        self.setPlainText(text)
        self.moveCursor(self.textCursor().MoveOperation.End)
        self.setFocus()

    def submit(self) -> bool:
        text = self.toPlainText().strip()
        if (not text and not self.has_attachments()) or self.busy:
            return False
        self.clear()
        self.submitted.emit(text)
        return True
