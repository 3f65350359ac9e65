"""The transcript's keyboard beyond its text: a message chosen with Alt+Up/Alt+Down
takes its action keys (C, E, R, Del, ←/→, Enter, A/W/D; Esc leaves it, before the
window's Stop), Tab from it walks its toolbar (see `overlay.ActionBar`), the Menu key
or Shift+F10 opens its context menu, Ctrl+End jumps to the latest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QTextBrowser

from .actions import MessageAction

if TYPE_CHECKING:
    from PySide6.QtGui import QContextMenuEvent, QKeyEvent
    from PySide6.QtWidgets import QMenu

    from .decor import Decor
    from .document import EntryDocument
    from .entries import Entry
    from .overlay import ActionBar
    from .palette import TranscriptTheme

__all__ = ["MessageKeys"]


class MessageKeys(QTextBrowser):
    """The part of `Interaction` that answers keys on a chosen message."""

    # (provided by Interaction / Transcript)
    focused: Entry | None
    theme: TranscriptTheme
    _decor: Decor
    _doc: EntryDocument

    @property
    def entries(self) -> list[Entry]:
        raise NotImplementedError

    @property
    def action_bar(self) -> ActionBar:
        raise NotImplementedError

    def _bar_shown(self) -> bool:
        raise NotImplementedError

    def _place_bar(self, entry: Entry) -> None:
        raise NotImplementedError

    def message_actions(self, entry: Entry) -> list[MessageAction]:
        raise NotImplementedError

    def focus_message(self, step: int) -> Entry | None:
        raise NotImplementedError

    def set_focused(self, entry: Entry | None) -> None:
        raise NotImplementedError

    def jump_to_latest(self) -> None:
        raise NotImplementedError

    def focusNextPrevChild(self, next: bool) -> bool:
        """Tab on a chosen message (no link selected) enters its toolbar."""
        if (
            next
            and self.focused is not None
            and self._bar_shown()
            and self.hasFocus()
            and not self.textCursor().hasSelection()
            and self.action_bar.enter(0)
        ):
            return True
        return super().focusNextPrevChild(next)

    def _left_bar(self, forward: bool) -> None:
        """The keyboard leaves the toolbar: back to the message, or on past it (its
        links after it, then the next control)."""
        from PySide6.QtCore import Qt

        self.setFocus(Qt.FocusReason.TabFocusReason)
        if forward and self.focused is not None and self.focused in self.entries:
            cursor = self.textCursor()
            cursor.setPosition(self._doc.bounds(self.focused)[1])
            self.setTextCursor(cursor)
            super().focusNextPrevChild(True)

    def _bar_ran(self, key: str, index: int, by_keyboard: bool) -> None:
        """A toolbar button of entry `key` was used: the bar shows what the message now
        offers (Hide details after Show details); used from the keyboard, the focus
        stays in it, or goes back to the transcript when the message is gone."""
        entry = self._doc.by_key.get(key)
        alive = entry is not None and (self._bar_shown() or entry is self.focused)
        if alive and entry is not None:
            self._place_bar(entry)
        if not by_keyboard:
            return
        if alive and self.action_bar.enter(min(index, len(self.action_bar.buttons) - 1)):
            return
        self.setFocus()

    def message_menu(self, entry: Entry | None, pos: QPoint) -> QMenu:
        """The context menu: the standard one (Copy, Select All), then `entry`'s actions."""
        from PySide6.QtWidgets import QMenu  # noqa: F401  (loaded with the first menu)

        menu = self.createStandardContextMenu(pos)
        if entry is not None:
            actions = self.message_actions(entry)
            if actions:
                menu.addSeparator()
            for action in actions:
                item = menu.addAction(action.name)
                item.setShortcut(QKeySequence(action.key))
                item.triggered.connect(lambda _checked=False, run=action.run: run())
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        from PySide6.QtGui import QContextMenuEvent

        if event.reason() == QContextMenuEvent.Reason.Keyboard and self.focused is not None:
            entry: Entry | None = self.focused
            rect = self._decor.rect(self.focused, self.theme)
            pos = QPoint(int(rect.left()), int(rect.top() - self.verticalScrollBar().value()))
        else:
            pos = event.pos()
            entry = self._decor.entry_at(self.entries, pos.y() + self.verticalScrollBar().value())
        menu = self.message_menu(entry, pos)
        from PySide6.QtCore import Qt

        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.viewport().mapToGlobal(pos))

    def event(self, event: QEvent) -> bool:
        # Esc leaves the chosen message (not the window's Stop); its action keys (Del...)
        # are its own.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self.focused is not None
            and self._message_key(event) is not None  # type: ignore[arg-type]
        ):
            event.accept()
            return True
        return super().event(event)

    def _message_key(self, event: QKeyEvent) -> MessageAction | str | None:
        """What `event` does to the chosen message: one of its actions, "leave" (Esc),
        or None (nothing)."""
        from PySide6.QtCore import Qt

        key, mods = event.key(), event.modifiers()
        if self.focused is None or mods not in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        ):
            return None
        if key == Qt.Key.Key_Escape:
            return "leave"
        name = QKeySequence(key).toString()
        for action in self.message_actions(self.focused):
            if action.key == name or (action.key == "Return" and key == Qt.Key.Key_Enter):
                return action
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        from PySide6.QtCore import Qt

        key, mods = event.key(), event.modifiers()
        alt = mods == Qt.KeyboardModifier.AltModifier
        if alt and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.focus_message(-1 if key == Qt.Key.Key_Up else 1)
            return
        if key == Qt.Key.Key_End and mods == Qt.KeyboardModifier.ControlModifier:
            self.jump_to_latest()
            return
        if key == Qt.Key.Key_F10 and mods == Qt.KeyboardModifier.ShiftModifier:
            from PySide6.QtGui import QContextMenuEvent

            self.contextMenuEvent(
                QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(0, 0))
            )
            return
        found = self._message_key(event)
        if found == "leave":
            self.set_focused(None)
            return
        if isinstance(found, MessageAction):
            found.run()
            if self.focused is not None and self.focused in self.entries:
                self._place_bar(self.focused)
            return
        super().keyPressEvent(event)
