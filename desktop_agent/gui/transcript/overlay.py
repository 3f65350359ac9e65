"""Widgets over the transcript: the action toolbar of the message under the mouse
(or with the keyboard focus), and the "Jump to latest ↓" button shown while the
view is scrolled up from the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt  # (this module loads on first hover)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

from .actions import MessageAction

__all__ = ["ActionBar", "JumpButton"]

_KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride)


class ActionBar(QFrame):
    """A row of buttons for one message's actions (rebuilt for each message).

    Out of the window's Tab chain (it comes and goes with the mouse), but in the
    transcript's: with a message chosen (Alt+Up/Alt+Down), Tab enters its toolbar
    (`enter`); there Tab / Shift+Tab (or Right / Left) move between the buttons,
    Enter or Space uses one (then `ran(key, index, by_keyboard)`, as after a click),
    Esc goes back to the message, and
    Tab past the last button or Shift+Tab before the first leaves through
    `leave(forward)`."""

    def __init__(
        self,
        parent: QWidget,
        leave: Callable[[bool], None] | None = None,
        ran: Callable[[str, int, bool], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setCursor(Qt.CursorShape.ArrowCursor)
        self.setStyleSheet(
            "QToolButton:focus { border: 2px solid palette(highlight); border-radius: 4px; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        self._layout = layout
        self._leave = leave
        self._ran = ran
        self.buttons: list[QToolButton] = []
        self.names: list[str] = []
        self.key: str | None = None  # the entry the bar is for
        self.hide()

    def show_for(self, key: str, about: str, actions: Sequence[MessageAction], at: QPoint) -> None:
        """Show the actions of entry `key` (described as `about`) with its top right at `at`."""
        names = [action.name for action in actions]
        if key != self.key or names != self.names:
            had_focus = self.focused_index()
            for button in self.buttons:
                self._layout.removeWidget(button)
                button.deleteLater()
            self.buttons = []
            for index, action in enumerate(actions):
                button = QToolButton(self)
                button.setText(action.glyph)
                button.setAutoRaise(True)
                button.setAccessibleName(action.name)
                button.setAccessibleDescription(f"Key {action.key} on the chosen message")
                button.setToolTip(f"{action.name} ({action.key} on a message chosen with Alt+↑/↓)")
                # (not in the window's Tab chain: Tab from the chosen message enters it)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.installEventFilter(self)
                button.clicked.connect(
                    lambda _checked=False, run=action.run, i=index: self._run(run, i)
                )
                self._layout.addWidget(button)
                self.buttons.append(button)
            self.key, self.names = key, names
            self.setAccessibleName(f"Actions for {about}")
            if had_focus is not None and self.buttons:
                self.buttons[min(had_focus, len(self.buttons) - 1)].setFocus()
        if not actions:
            self.hide()
            return
        self.adjustSize()
        self.move(max(0, at.x() - self.width()), max(0, at.y() - self.height() // 2))
        self.show()
        self.raise_()

    def focused_index(self) -> int | None:
        """Which button has the keyboard focus (None: none)."""
        for index, button in enumerate(self.buttons):
            if button.hasFocus():
                return index
        return None

    def enter(self, index: int = 0) -> bool:
        """Give the keyboard focus to a button (the first; -1: the last)."""
        if not self.isVisible() or not self.buttons:
            return False
        self.buttons[index].setFocus(Qt.FocusReason.TabFocusReason)
        return True

    def _run(self, run: Callable[[], None], index: int) -> None:
        by_keyboard, key = self.focused_index() is not None, self.key
        run()
        if self._ran is not None and key is not None:
            self._ran(key, index, by_keyboard)  # (the bar may have changed or gone)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched not in self.buttons or kind not in _KEY_EVENTS:
            return False
        key = event.key()  # type: ignore[attr-defined]
        if kind == QEvent.Type.ShortcutOverride:  # (Esc, Enter: this bar's, not the window's)
            if key in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                event.accept()
            return False
        index = self.buttons.index(watched)
        step = {Qt.Key.Key_Tab: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Backtab: -1, Qt.Key.Key_Left: -1}
        if key in step:
            target = index + step[key]
            if 0 <= target < len(self.buttons):
                self.buttons[target].setFocus(Qt.FocusReason.TabFocusReason)
            elif key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and self._leave is not None:
                self._leave(key == Qt.Key.Key_Tab)
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.buttons[index].click()
            return True
        if key == Qt.Key.Key_Escape and self._leave is not None:
            self._leave(False)
            return True
        return False

    def dismiss(self) -> None:
        self.key = None
        self.names = []
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
