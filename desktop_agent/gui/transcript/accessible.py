"""The transcript as assistive technology sees it: a list, one item per message,
each named by its author and its text ("You: …", "Assistant (model): …", "Tool
lookup, done, …"), the message chosen with Alt+Up/Alt+Down focused. (A
QTextBrowser alone is one long text with no messages in it.)

`install()` registers the factory once; Qt asks it for an interface per widget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRect
from PySide6.QtGui import QAccessible, QAccessibleInterface
from PySide6.QtWidgets import QAccessibleWidget

from .actions import FOCUSABLE, author, spoken

if TYPE_CHECKING:
    from .entries import Entry
    from .widget import Transcript

__all__ = ["install"]

#: A message's text is cut here for its accessible name (the whole is in the document).
NAME_LIMIT = 4000
_installed = False


class MessageItem(QAccessibleInterface):
    """One message of the list."""

    def __init__(self, owner: TranscriptAccessible, entry: Entry) -> None:
        super().__init__()
        self._owner = owner
        self.entry = entry

    def isValid(self) -> bool:
        return self.entry in self._owner.view.entries

    def object(self) -> QObject | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        return None

    def window(self) -> Any:
        return self._owner.window()

    def role(self) -> QAccessible.Role:
        return QAccessible.Role.ListItem

    def text(self, kind: QAccessible.Text) -> str:
        if kind == QAccessible.Text.Name:
            entry = self.entry
            if entry.kind == "assistant":  # as shown, not as written (no Markdown marks)
                return f"{author(entry)}: {self._owner.view.shown_text(entry)}"[:NAME_LIMIT]
            return spoken(entry)[:NAME_LIMIT]
        if kind == QAccessible.Text.Description:
            return "Alt+Up and Alt+Down move between messages; the Menu key lists their actions"
        return ""

    def setText(self, kind: QAccessible.Text, text: str) -> None:
        return None

    def rect(self) -> QRect:
        view = self._owner.view
        area = view._decor.rect(self.entry, view.theme).toRect()
        area.translate(0, -view.verticalScrollBar().value())
        return QRect(view.viewport().mapToGlobal(area.topLeft()), area.size())

    def parent(self) -> QAccessibleInterface:
        return self._owner

    def child(self, index: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        return None

    def childCount(self) -> int:
        return 0

    def indexOfChild(self, child: QAccessibleInterface) -> int:
        return -1

    def childAt(self, x: int, y: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        return None

    def state(self) -> QAccessible.State:
        state = QAccessible.State()
        state.focusable = True
        state.readOnly = True
        state.focused = self._owner.view.focused is self.entry
        return state

    def relations(self, match: Any = None) -> list[Any]:
        return []

    def focusChild(self) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        return None


class TranscriptAccessible(QAccessibleWidget):
    """The transcript: a list of its messages."""

    def __init__(self, view: Transcript) -> None:
        super().__init__(view, QAccessible.Role.List, "Conversation transcript")
        self.view = view
        self._items: dict[str, MessageItem] = {}  # by entry key (kept alive here)

    def messages(self) -> list[Entry]:
        return [entry for entry in self.view.entries if entry.kind in FOCUSABLE]

    def _item(self, entry: Entry) -> MessageItem:
        item = self._items.get(entry.key)
        if item is None or item.entry is not entry:
            item = self._items[entry.key] = MessageItem(self, entry)
        return item

    def childCount(self) -> int:
        return len(self.messages())

    def child(self, index: int) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        messages = self.messages()
        return self._item(messages[index]) if 0 <= index < len(messages) else None

    def indexOfChild(self, child: QAccessibleInterface) -> int:
        if isinstance(child, MessageItem) and child.entry in self.view.entries:
            return self.messages().index(child.entry)
        return -1

    def focusChild(self) -> QAccessibleInterface | None:  # type: ignore[override]  # (Qt returns nullptr: the stub says never)
        focused = self.view.focused
        return self._item(focused) if focused is not None else None

    def text(self, kind: QAccessible.Text) -> str:
        if kind == QAccessible.Text.Name:
            return self.view.accessibleName()
        if kind == QAccessible.Text.Description:
            return self.view.accessibleDescription()
        return str(super().text(kind))


def _factory(key: str, obj: QObject) -> QAccessibleInterface | None:
    from .widget import Transcript

    if isinstance(obj, Transcript):
        return TranscriptAccessible(obj)
    return None


def install() -> None:
    """Register the transcript's accessibility factory (once)."""
    global _installed
    if not _installed:
        QAccessible.installFactory(_factory)
        _installed = True
