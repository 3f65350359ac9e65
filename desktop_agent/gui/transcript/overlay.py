"""Widgets over the transcript: the action toolbar of the message under the mouse
(or with the keyboard focus), and the "Jump to latest ↓" button shown while the
view is scrolled up from the end."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt  # (this module loads on first hover)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

from .actions import MessageAction

__all__ = ["ActionBar", "JumpButton"]


class ActionBar(QFrame):
    """A row of buttons for one message's actions (rebuilt for each message)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setCursor(Qt.CursorShape.ArrowCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        self._layout = layout
        self.buttons: list[QToolButton] = []
        self.key: str | None = None  # the entry the bar is for
        self.hide()

    def show_for(self, key: str, about: str, actions: Sequence[MessageAction], at: QPoint) -> None:
        """Show the actions of entry `key` (described as `about`) with its top right at `at`."""
        if key != self.key or len(actions) != len(self.buttons):
            for button in self.buttons:
                self._layout.removeWidget(button)
                button.deleteLater()
            self.buttons = []
            for action in actions:
                button = QToolButton(self)
                button.setText(action.glyph)
                button.setAutoRaise(True)
                button.setAccessibleName(action.name)
                button.setToolTip(f"{action.name} ({action.key} on a message chosen with Alt+↑/↓)")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keyboard: see the transcript
                button.clicked.connect(lambda _checked=False, run=action.run: run())
                self._layout.addWidget(button)
                self.buttons.append(button)
            self.key = key
            self.setAccessibleName(f"Actions for {about}")
        if not actions:
            self.hide()
            return
        self.adjustSize()
        self.move(max(0, at.x() - self.width()), max(0, at.y() - self.height() // 2))
        self.show()
        self.raise_()

    def dismiss(self) -> None:
        self.key = None
        self.hide()


class JumpButton(QToolButton):
    """ "Jump to latest ↓": back to the end of the conversation (and to following it)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("jumpToLatest")
        self.setText("Jump to latest ↓")
        self.setAccessibleName("Jump to latest")
        self.setAccessibleDescription("Scroll to the end of the conversation (Ctrl+End)")
        self.setToolTip("Jump to latest (Ctrl+End)")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.hide()

    def place(self, area: QWidget) -> None:
        """Bottom centre of `area` (the transcript's viewport), in the parent's coordinates."""
        self.adjustSize()
        parent = self.parentWidget()
        assert parent is not None
        origin = area.mapTo(parent, QPoint(0, 0))
        x = origin.x() + (area.width() - self.width()) // 2
        y = origin.y() + area.height() - self.height() - 16
        self.move(x, y)
        self.raise_()
