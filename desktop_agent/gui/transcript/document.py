"""The transcript's entries as runs of blocks in one flat QTextDocument, and where
each starts. It puts HTML where it is told and gives blocks the look it is told
(`look`): what to show is decided elsewhere.

Entries are plain blocks, not QTextFrames: with a frame per entry every edit costs
time in proportion to the number of frames (measured: 5 ms per edit at 6,700
entries). Each entry knows the position where it starts; every edit goes through
this class, which shifts the positions of the entries after an edited one (none
when the edited entry is the last, the streaming case). Not QTextCursors: Qt
adjusts every live cursor on every insertion, which costs time per entry again.
Boxes (user, tool, error) are block backgrounds.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtGui import (
    QColor,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)

from .entries import BlockLook, Entry

__all__ = ["EntryDocument"]


class EntryDocument:
    """The entries of one QTextDocument, in order, by key and by position."""

    def __init__(self, document: QTextDocument, look: Callable[[Entry], BlockLook]) -> None:
        """`look(entry)`: how the blocks of that entry look."""
        self.document = document
        self._look = look
        self.entries: list[Entry] = []
        self.by_key: dict[str, Entry] = {}
        self._insert_at: int | None = None  # see at_top
        self._keys = itertools.count()

    # -- entries ------------------------------------------------------------------

    def add(self, kind: str, key: str | None = None, **fields: Any) -> Entry:
        """A new, empty entry: at the end, or in order in front of the entries shown
        (`at_top`)."""
        key = key or f"e{next(self._keys)}"
        if self._insert_at is not None and self._insert_at < len(self.entries):
            return self._add_before(self._insert_at, kind, key, **fields)
        cursor = QTextCursor(self.document)
        if self.entries:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        entry = Entry(kind=kind, key=key, pos=cursor.position(), **fields)
        self.entries.append(entry)
        self.by_key[key] = entry
        if self._insert_at is not None:
            self._insert_at += 1
        return entry

    def _add_before(self, index: int, kind: str, key: str, **fields: Any) -> Entry:
        """A new entry in front of `entries[index]` (older messages, loaded later)."""
        following = self.entries[index]
        cursor = QTextCursor(self.document)
        cursor.setPosition(following.pos)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        entry = Entry(kind=kind, key=key, pos=following.pos, **fields)
        for later in self.entries[index:]:
            later.pos += 1
        self.entries.insert(index, entry)
        self.by_key[key] = entry
        self.style(following, following.pos)  # its first block lost its look to the split
        self._insert_at = index + 1
        return entry

    @contextlib.contextmanager
    def at_top(self) -> Iterator[None]:
        """Entries added inside the block go before everything else, in order."""
        self._insert_at = 0
        try:
            yield
        finally:
            self._insert_at = None

    def starts_turn(self, entry: Entry) -> bool:
        """Whether `entry` (just added) is the first answer since the user's message."""
        index = len(self.entries) - 1 if self._insert_at is None else self._insert_at - 1
        for earlier in reversed(self.entries[max(0, index - 50) : index]):
            if earlier.kind == "user":
                return True
            if earlier.kind == "assistant":
                return False
        return True

    def truncate(self, entry: Entry) -> None:
        """Remove `entry` and everything after it."""
        if entry not in self.entries:
            return
        index = self.entries.index(entry)
        cursor = QTextCursor(self.document)
        cursor.setPosition(max(0, entry.pos - 1))
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        for gone in self.entries[index:]:
            self.by_key.pop(gone.key, None)
        del self.entries[index:]
        if not self.entries:
            self.document.clear()

    def clear(self) -> None:
        self.entries.clear()
        self.by_key.clear()
        self.document.clear()

    # -- positions ----------------------------------------------------------------

    def bounds(self, entry: Entry) -> tuple[int, int]:
        """(first position, end position) of the entry's text, its last separator excluded."""
        if self.entries[-1] is entry:
            return entry.pos, self.document.characterCount() - 1
        following = self.entries[self.entries.index(entry) + 1]
        return entry.pos, following.pos - 1

    def block_at(self, position: int) -> QTextBlock:
        return self.document.findBlock(position)

    def _followers(self, entry: Entry) -> list[Entry]:
        if self.entries[-1] is entry:
            return []
        return self.entries[self.entries.index(entry) + 1 :]

    def _shift_after(self, entry: Entry, size_before: int) -> None:
        """Move the entries after `entry` by what an edit inside it added or removed."""
        delta = self.document.characterCount() - size_before
        if delta:
            for later in self._followers(entry):
                later.pos += delta

    # -- edits inside an entry ------------------------------------------------------

    def insert_block(
        self,
        entry: Entry,
        position: int,
        block_format: QTextBlockFormat | None = None,
        char_format: QTextCharFormat | None = None,
    ) -> None:
        """Start a new block at `position` (inside `entry`, or at its end)."""
        size = self.document.characterCount()
        cursor = QTextCursor(self.document)
        cursor.setPosition(position)
        cursor.insertBlock(
            QTextBlockFormat() if block_format is None else block_format,
            QTextCharFormat() if char_format is None else char_format,
        )
        self._shift_after(entry, size)

    def append_text(self, entry: Entry, text: str, char_format: QTextCharFormat) -> None:
        """Add plain text at the end of the entry (to its last block)."""
        size = self.document.characterCount()
        cursor = QTextCursor(self.document)
        cursor.setPosition(self.bounds(entry)[1])
        cursor.insertText(text, char_format)
        self._shift_after(entry, size)

    def replace(self, entry: Entry, start: int, html_text: str) -> int:
        """Replace the entry's text from offset `start` to its end; new length."""
        first, end = self.bounds(entry)
        return self.replace_range(entry, start, end - first - start, html_text)

    def replace_range(self, entry: Entry, start: int, length: int, html_text: str) -> int:
        """Replace `length` characters of the entry from offset `start`; new length."""
        first = entry.pos
        size = self.document.characterCount()
        cursor = QTextCursor(self.document)
        cursor.setPosition(first + start)
        cursor.setPosition(first + start + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # Removing a range merges its first and last blocks, and the survivor keeps
        # the last one's format (a list item, a heading): start from a plain block.
        current_list = cursor.currentList()
        if current_list is not None:
            current_list.remove(cursor.block())
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.setCharFormat(QTextCharFormat())
        if html_text:
            cursor.insertHtml(html_text)
        inserted = cursor.position() - first - start
        self._shift_after(entry, size)
        self.style(entry, first + start)
        return inserted

    def replace_header(self, entry: Entry, html_text: str) -> None:
        """Replace the header of an entry that has one (its blocks above the body, or
        all of it before `start_body`), keeping `header_len`."""
        old = entry.header_len - 1 if entry.header_len else 0
        new_len = self.replace_range(entry, 0, old, html_text)
        entry.header_len = new_len + (1 if entry.header_len else 0)

    def collapse_header(self, entry: Entry) -> None:
        """An entry with no header line (an answer after tool calls in the same turn):
        its empty first block takes no height (it keeps the entry's top margin)."""
        block = self.document.findBlock(entry.pos)
        if block.length() > 1:
            return
        fmt = block.blockFormat()
        fmt.setLineHeight(0, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
        QTextCursor(block).setBlockFormat(fmt)

    def start_body(self, entry: Entry) -> None:
        """Start the entry's body in a block of its own under its header."""
        self.insert_block(entry, entry.pos + entry.header_len)
        entry.header_len += 1

    def drop_last_block(self, entry: Entry) -> None:
        """Remove the entry's empty last block (keeping the look of the one before)."""
        first, end = self.bounds(entry)
        block = self.document.findBlock(end)
        if block.length() > 1 or block.position() <= first:
            return
        previous = block.previous()
        fmt, char_fmt = previous.blockFormat(), previous.charFormat()
        size = self.document.characterCount()
        cursor = QTextCursor(self.document)
        cursor.setPosition(end - 1)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(fmt)
        cursor.setBlockCharFormat(char_fmt)
        self._shift_after(entry, size)

    def owner(self, position: int) -> Entry | None:
        """The entry whose text holds `position`."""
        index = bisect.bisect_right(self.entries, position, key=lambda e: e.pos) - 1
        return self.entries[index] if index >= 0 else None

    def swap_text(self, cursor: QTextCursor, text: str) -> None:
        """Put plain `text` in place of `cursor`'s selection, in the format of its
        first character (a link stays a link); the entries after it move along."""
        entry = self.owner(cursor.selectionStart())
        start = QTextCursor(self.document)
        start.setPosition(cursor.selectionStart() + 1)
        fmt = start.charFormat()
        size = self.document.characterCount()
        cursor.insertText(text, fmt)
        if entry is not None:
            self._shift_after(entry, size)

    def style(self, entry: Entry, from_position: int) -> None:
        """Give the entry's blocks from `from_position` on their look."""
        background, top_margin, left, right = self._look(entry)
        first, end = self.bounds(entry)
        block = self.document.findBlock(from_position)
        sides = bool(left or right)
        while block.isValid() and block.position() <= end:
            fmt = QTextBlockFormat()
            if background is not None:
                fmt.setBackground(QColor(background))
            if sides:  # a card's padding (inside a table cell too: the table moves)
                fmt.setLeftMargin(left)
                fmt.setRightMargin(right)
            if block.position() == first:
                fmt.setTopMargin(top_margin)
            if background is not None or sides or block.position() == first:
                QTextCursor(block).mergeBlockFormat(fmt)
            block = block.next()
