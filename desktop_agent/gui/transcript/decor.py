"""What the transcript paints behind and over its text: rounded bubbles (the user's
messages) and cards (tool calls, approvals, errors), the keyboard focus ring of
the message chosen with Alt+Up/Alt+Down, and the caret at the end of an answer
while it streams. QTextDocument has no rounded corners: these are painted in the
viewport under the document, for the entries on screen only (found by bisection,
so a long conversation costs nothing more)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen, QTextCursor, QTextFormat

from .entries import CARD_PAD, Entry

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTextBrowser

    from .document import EntryDocument
    from .palette import TranscriptTheme

__all__ = ["Decor"]

#: Kinds drawn as a rounded card (and the radius of each).
CARD_RADIUS = {"user": 14.0, "tool": 10.0, "approval": 10.0, "error": 10.0}


class Decor:
    """Geometry of entries in document coordinates, and the painting of cards."""

    def __init__(self, view: QTextBrowser, doc: EntryDocument) -> None:
        self._view = view
        self._doc = doc

    # -- geometry -------------------------------------------------------------------

    def _top(self, entry: Entry) -> float:
        layout = self._view.document().documentLayout()
        return layout.blockBoundingRect(self._doc.block_at(entry.pos)).top()

    def rect(self, entry: Entry, theme: TranscriptTheme, following: Entry | None = None) -> QRectF:
        """The entry's area in document coordinates (a card's rounded rectangle);
        `following`: the entry after it, when known (else it is looked up: O(entries))."""
        document = self._view.document()
        layout = document.documentLayout()
        if following is not None:
            first, end = entry.pos, following.pos - 1
        else:
            first, end = self._doc.bounds(entry)
        top_block = self._doc.block_at(first)
        top = layout.blockBoundingRect(top_block).top()
        bottom = layout.blockBoundingRect(self._doc.block_at(end)).bottom()
        frame = document.rootFrame().frameFormat()
        left = frame.leftMargin() + frame.padding()
        right = document.textWidth() - frame.rightMargin() - frame.padding()
        # (block rects exclude block margins: the card reaches into the margins' space)
        top -= CARD_PAD - 2 if entry.kind == "user" else 8
        bottom += CARD_PAD - 2 if entry.kind == "user" else 8
        if entry.kind == "user":
            left += entry.indent
        return QRectF(left, top, max(0.0, right - left), max(0.0, bottom - top))

    def visible(self, entries: Sequence[Entry]) -> list[Entry]:
        """The entries on screen, in order."""
        return [entry for entry, _next in self.visible_pairs(entries)]

    def visible_pairs(self, entries: Sequence[Entry]) -> list[tuple[Entry, Entry | None]]:
        """The entries on screen, in order, each with the one after it (None: the last)."""
        if not entries:
            return []
        view = self._view
        y0 = view.verticalScrollBar().value()
        y1 = y0 + view.viewport().height()
        # The first entry starting below the screen's top; the one before may reach into it.
        start = bisect.bisect_right(entries, float(y0), key=self._top)
        shown: list[tuple[Entry, Entry | None]] = []
        index = max(0, start - 1)
        while index < len(entries) and self._top(entries[index]) <= y1:
            following = entries[index + 1] if index + 1 < len(entries) else None
            shown.append((entries[index], following))
            index += 1
        return shown

    def entry_at(self, entries: Sequence[Entry], y: float) -> Entry | None:
        """The entry under document height `y`."""
        if not entries:
            return None
        index = bisect.bisect_right(entries, y, key=self._top) - 1
        return entries[index] if index >= 0 else None

    # -- painting -------------------------------------------------------------------

    def paint_under(
        self,
        painter: QPainter,
        entries: Sequence[tuple[Entry, Entry | None]],
        theme: TranscriptTheme,
    ) -> None:
        """Bubbles and cards behind the text of the entries on screen."""
        dx = -self._view.horizontalScrollBar().value()
        dy = -self._view.verticalScrollBar().value()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for entry, following in entries:
            radius = CARD_RADIUS.get(entry.kind)
            if radius is None:
                continue
            fill, border = {
                "user": (theme.bubble, theme.card_border),
                "tool": (theme.card, theme.card_border),
                "approval": (theme.approval_bg, theme.error_border),
                "error": (theme.error_bg, theme.error_border),
            }[entry.kind]
            if entry.kind == "approval" and entry.outcome is not None:
                fill, border = theme.card, theme.card_border
            rect = self.rect(entry, theme, following).translated(dx, dy)
            rect = rect.adjusted(0.5, 0.5, -0.5, -0.5)
            painter.setPen(QPen(QColor(border), 1.5 if entry.kind == "approval" else 1.0))
            painter.setBrush(QColor(fill))
            painter.drawRoundedRect(rect, radius, radius)

    def paint_code(
        self,
        painter: QPainter,
        entries: Sequence[tuple[Entry, Entry | None]],
        theme: TranscriptTheme,
    ) -> None:
        """A rounded panel behind each code block of the answers on screen (its
        header line, then its code: blocks that do not wrap)."""
        answers = [
            (entry.pos, following.pos if following is not None else 1 << 62)
            for entry, following in entries
            if entry.kind == "assistant"
        ]
        if not answers:
            return
        view = self._view
        layout = view.document().documentLayout()
        y0 = view.verticalScrollBar().value()
        y1 = y0 + view.viewport().height()
        # The blocks on screen only: a code block begun above it gets a panel from
        # above the screen's top (no walk back through a long block on every paint).
        block = view.cursorForPosition(QPoint(0, 0)).block()
        above = float(y0 - 40)

        def inside(position: int) -> bool:
            return any(start <= position < end for start, end in answers)

        frame = view.document().rootFrame().frameFormat()
        left = frame.leftMargin()
        right = view.document().textWidth() - frame.rightMargin()
        panels: list[tuple[float, float, float]] = []  # top, header bottom, bottom
        head = None
        run: list[float] | None = None
        quotes: list[QRectF] = []
        while block.isValid():
            rect = layout.blockBoundingRect(block)
            fmt = block.blockFormat()
            code = fmt.nonBreakableLines() and inside(block.position())
            if fmt.intProperty(QTextFormat.Property.BlockQuoteLevel) > 0:
                quotes.append(rect)
            if code:
                if run is None:
                    top = head.top() if head is not None else min(rect.top(), above)
                    line = head.bottom() if head is not None else top
                    run = [top, line, rect.bottom()]
                else:
                    run[2] = rect.bottom()
            elif run is not None:
                panels.append((run[0], run[1], run[2]))
                run = None
            if rect.top() > y1:
                break
            head = rect if not code else None
            block = block.next()
        if run is not None:
            panels.append((run[0], run[1], run[2]))
        dx = -view.horizontalScrollBar().value()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for quote in quotes:  # a bar left of a blockquote
            bar = QRectF(left + 2, quote.top(), 3, quote.height()).translated(dx, -y0)
            painter.fillRect(bar, QColor(theme.card_border))
        for top, line, bottom in panels:
            rect = QRectF(left, top - 6, right - left, bottom - top + 14).translated(dx, -y0)
            painter.setPen(QPen(QColor(theme.card_border), 1.0))
            painter.setBrush(QColor(theme.code_bg))
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 8.0, 8.0)
            if line > top:
                y = line + 4 - y0
                painter.drawLine(QPointF(left + dx, y), QPointF(right + dx, y))

    def paint_focus(
        self, painter: QPainter, entry: Entry, theme: TranscriptTheme, following: Entry | None
    ) -> None:
        """The keyboard focus ring: 2 px in the focus colour, 2 px outside the entry."""
        dx = -self._view.horizontalScrollBar().value()
        dy = -self._view.verticalScrollBar().value()
        rect = self.rect(entry, theme, following).translated(dx, dy).adjusted(-3, -3, 3, 3)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.focus), 2.0))
        painter.setBrush(QColor(0, 0, 0, 0))  # (no fill; Qt's enums load late: start-up)
        painter.drawRoundedRect(rect, 12.0, 12.0)

    def paint_spinner(
        self, painter: QPainter, entry: Entry, theme: TranscriptTheme, turn: float
    ) -> None:
        """A turning arc over a running tool's state glyph (its first character);
        `turn`: how far round (0..1)."""
        cursor = QTextCursor(self._view.document())
        cursor.setPosition(entry.pos)
        at = self._view.cursorRect(cursor)
        size = min(at.height() * 0.7, 14.0)
        box = QRectF(at.left() + 1, at.center().y() - size / 2, size, size)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(theme.accent), 2.0))
        painter.setBrush(QColor(0, 0, 0, 0))  # (no fill; Qt's enums load late: start-up)
        painter.drawArc(box, int(-turn * 360 * 16), 100 * 16)

    def paint_caret(self, painter: QPainter, entry: Entry, theme: TranscriptTheme) -> None:
        """A block caret after the last character of an answer being written."""
        _first, end = self._doc.bounds(entry)
        cursor = QTextCursor(self._view.document())
        cursor.setPosition(end)
        at = self._view.cursorRect(cursor)
        height = at.height() * 0.8
        caret = QRectF(at.left() + 3, at.top() + (at.height() - height) / 2, height * 0.45, height)
        painter.fillRect(caret, QColor(theme.accent))
