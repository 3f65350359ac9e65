"""A code block's Copy link says "Copied" for two seconds after it was used (by
mouse or by keyboard), then "Copy" again; one block at a time."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextDocument

from .document import EntryDocument
from .links import AppLinks

__all__ = ["COPIED_MS", "CopyFeedback"]

#: How long the label reads "Copied".
COPIED_MS = 2000
_FIND = QTextDocument.FindFlag.FindCaseSensitively | QTextDocument.FindFlag.FindWholeWords


class CopyFeedback(QObject):
    def __init__(self, doc: EntryDocument, links: AppLinks, parent: QObject) -> None:
        super().__init__(parent)
        self._doc = doc
        self._links = links
        #: Puts the label back (single shot, `COPIED_MS`).
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(COPIED_MS)
        self.timer.timeout.connect(self.restore)
        #: The key of the code block whose label reads "Copied" (None: none).
        self.showing: str | None = None

    def copied(self, key: str) -> bool:
        """The code block `key` was copied: its label reads "Copied" for a while.
        False when its label is not shown as a whole (its answer still streams)."""
        self.restore()
        if not self._swap(key, "Copy", "Copied"):
            return False
        self.showing = key
        self.timer.start()
        return True

    def restore(self) -> None:
        self.timer.stop()
        if self.showing is not None:
            self._swap(self.showing, "Copied", "Copy")
            self.showing = None

    def _swap(self, key: str, old: str, new: str) -> bool:
        href = self._links.make("copy", key)
        document = self._doc.document
        cursor = document.find(old, 0, _FIND)
        while not cursor.isNull():
            if cursor.charFormat().anchorHref() == href:
                entry = self._doc.owner(cursor.selectionStart())
                if entry is None or entry.streaming:
                    return False  # (the streaming renderer owns the positions in it)
                self._doc.swap_text(cursor, new)
                return True
            cursor = document.find(old, cursor, _FIND)
        return False
