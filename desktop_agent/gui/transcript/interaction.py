"""How the transcript looks and answers the user beyond its links: the centred
column, bubbles and cards and the streaming caret (painted by `Decor`), colours
that follow the palette live, the per-message actions (toolbar on hover, the same
from the keyboard: Alt+Up/Alt+Down choose a message, then its keys, the Menu key
or Shift+F10), "Jump to latest", Ctrl+A Ctrl+C copying the conversation as
Markdown, and what is said to assistive technology."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QPoint, QTimer
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAccessibleEvent,
    QFontInfo,
    QFontMetricsF,
    QGuiApplication,
    QPainter,
    QTextCursor,
)

from . import accessible
from .actions import FOCUSABLE, MessageAction, actions_for, conversation_markdown, spoken
from .decor import Decor
from .keyboard import MessageKeys
from .palette import TranscriptTheme

if TYPE_CHECKING:
    # (QMenu and QContextMenuEvent cost ~25 ms to load: not before the first paint)
    from PySide6.QtGui import (
        QMouseEvent,
        QPaintEvent,
        QResizeEvent,
    )

    from .document import EntryDocument
    from .entries import Entry
    from .overlay import ActionBar, JumpButton
    from .streaming import StreamingBody

__all__ = ["COLUMN_EM", "Interaction"]

#: The widest the text column gets, in ems of the transcript's font, 16 px at least
#: (768 px; centred beyond).
COLUMN_EM = 48
#: How far from the end the view may be and still count as following it.
_NEAR_END = 40
_PALETTE_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)


class Interaction(MessageKeys):
    """The part of `Transcript` that is about looks, focus and keys."""

    # (provided by Transcript)
    theme: TranscriptTheme
    _doc: EntryDocument
    _streaming: StreamingBody | None

    @property
    def entries(self) -> list[Entry]:
        raise NotImplementedError

    def rerender_all(self) -> None:
        raise NotImplementedError

    def _setup_interaction(self) -> None:
        accessible.install()
        self._decor = Decor(self, self._doc)
        # (made when first needed: ~10 ms of widgets not spent before the first paint)
        self._action_bar: ActionBar | None = None
        self._jump_button: JumpButton | None = None
        #: Repaints while a running tool is on screen (its spinner turns).
        self.spinner = QTimer(self)
        self.spinner.setInterval(80)
        self.spinner.timeout.connect(self.viewport().update)
        self.viewport().setMouseTracking(True)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._scrolled)
        #: The entry chosen with Alt+Up/Alt+Down (None: none).
        self.focused: Entry | None = None
        #: What was announced to assistive technology: (text, assertive), latest last.
        self.announcements: list[tuple[str, bool]] = []
        self._ready = True

    @property
    def action_bar(self) -> ActionBar:
        """The toolbar of the message under the mouse or with the keyboard focus."""
        if self._action_bar is None:
            from .overlay import ActionBar

            self._action_bar = ActionBar(self.viewport(), self._left_bar, self._bar_ran)
        return self._action_bar

    @property
    def jump_button(self) -> JumpButton:
        """ "Jump to latest ↓", shown while the view is away from the end."""
        if self._jump_button is None:
            from .overlay import JumpButton

            self._jump_button = JumpButton(self)
            self._jump_button.clicked.connect(self.jump_to_latest)
            self._jump_button.place(self.viewport())
        return self._jump_button

    def _bar_shown(self) -> bool:
        return self._action_bar is not None and self._action_bar.isVisible()

    def _dismiss_bar(self) -> None:
        if self._action_bar is not None:
            self._action_bar.dismiss()

    # -- colours and column ---------------------------------------------------------------

    def _apply_style_sheet(self) -> None:
        t = self.theme
        self.document().setDefaultStyleSheet(
            f"a {{ color: {t.link}; }} "
            f"code {{ font-family: '{t.mono}'; background-color: {t.code_bg}; }} "
            f"pre {{ font-family: '{t.mono}'; }} "
            "p, li { line-height: 145%; } "
            f"blockquote {{ color: {t.muted}; margin-left: 12px; }} "
            "h1 { font-size: x-large; } h2 { font-size: large; } "
            f"th {{ background-color: {t.code_bg}; }} "
        )

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in _PALETTE_EVENTS and getattr(self, "_ready", False):
            theme = TranscriptTheme.from_palette(self.palette())
            if theme != self.theme:
                self.theme = theme
                self._apply_style_sheet()
                if self._streaming is not None:
                    self._streaming.retheme(theme)
                self.rerender_all()
        elif event.type() == QEvent.Type.FontChange and getattr(self, "_ready", False):
            self._fit_column()

    def column_width(self) -> float:
        """The width of the text column (the document less its side margins)."""
        frame = self.document().rootFrame().frameFormat()
        return self.document().textWidth() - frame.leftMargin() - frame.rightMargin()

    def _fit_column(self) -> None:
        em = max(16, QFontInfo(self.font()).pixelSize())  # (a 16 px reading em at least)
        side = max(16, (self.viewport().width() - COLUMN_EM * em) // 2)
        frame = self.document().rootFrame()
        fmt = frame.frameFormat()
        if fmt.leftMargin() != side or fmt.rightMargin() != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            frame.setFrameFormat(fmt)
        column = self.column_width()
        if column != getattr(self, "_fitted_to", None):
            self._fitted_to = column
            self._refit_bubbles()

    def _bubble_indent(self, text: str) -> int:
        """How far a user's bubble stands in so that it fits `text` (its widest line)
        and sits on the right: at least `BUBBLE_INDENT` (80 % wide at most)."""
        from .entries import BUBBLE_INDENT, CARD_PAD

        column = self.column_width()
        if column < 4 * BUBBLE_INDENT:  # (not laid out yet: fitted on the first resize)
            return BUBBLE_INDENT
        metrics = QFontMetricsF(self.font())
        lines = text.splitlines()[:200] or [""]
        widest = max(metrics.horizontalAdvance(line[:400]) for line in lines)
        widest = max(widest, metrics.horizontalAdvance("◀ 9/9 ▶  edit"))
        fitted = column - widest - 2 * CARD_PAD - 8
        return int(min(max(BUBBLE_INDENT, fitted), column - 140))

    def _refit_bubbles(self) -> None:
        """Fit the user's bubbles to a new column width."""
        for entry in self.entries:
            if entry.kind == "user":
                indent = self._bubble_indent(entry.source)
                if indent != entry.indent:
                    entry.indent = indent
                    self._doc.style(entry, entry.pos)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_column()
        if self._jump_button is not None:
            self._jump_button.place(self.viewport())
        self._dismiss_bar()

    # -- painting -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        pairs = self._decor.visible_pairs(self.entries)
        shown = [entry for entry, _next in pairs]
        painter = QPainter(self.viewport())
        self._decor.paint_under(painter, pairs, self.theme)
        self._decor.paint_code(painter, pairs, self.theme)
        painter.end()
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        for entry in shown[-3:]:
            if entry.kind == "assistant" and entry.streaming:
                self._decor.paint_caret(painter, entry, self.theme)
        running = [entry for entry in shown if entry.kind == "tool" and entry.running]
        turn = (time.monotonic() % 1.0) if running else 0.0
        for entry in running:
            self._decor.paint_spinner(painter, entry, self.theme, turn)
        if running and not self.spinner.isActive():
            self.spinner.start()
        elif not running and self.spinner.isActive():
            self.spinner.stop()
        for entry, following in pairs:
            if entry is self.focused:
                self._decor.paint_focus(painter, entry, self.theme, following)
        painter.end()

    # -- following the end ----------------------------------------------------------------

    def at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - _NEAR_END

    def _scrolled(self, *_args: object) -> None:
        away = not self.at_end()
        shown = self._jump_button is not None and self._jump_button.isVisible()
        if away != shown:
            self.jump_button.setVisible(away)
            if away:
                self.jump_button.place(self.viewport())
        if self._bar_shown():
            self._place_bar(self.focused) if self.focused is not None else self._dismiss_bar()

    def jump_to_latest(self) -> None:
        """Scroll to the end: the view follows the answer again."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- per-message actions --------------------------------------------------------------

    def message_actions(self, entry: Entry) -> list[MessageAction]:
        return actions_for(self, entry)  # type: ignore[arg-type]

    def copy_entry(self, entry: Entry) -> None:
        """Copy a message as written (Markdown), or a tool's result."""
        text = entry.result or "" if entry.kind == "tool" else entry.source
        QGuiApplication.clipboard().setText(text)

    def shown_text(self, entry: Entry, limit: int = 4000) -> str:
        """An entry's body as shown (plain text, without its header line)."""
        first, end = self._doc.bounds(entry)
        cursor = QTextCursor(self.document())
        cursor.setPosition(first + entry.header_len)
        cursor.setPosition(
            min(end, first + entry.header_len + limit), QTextCursor.MoveMode.KeepAnchor
        )
        return cursor.selectedText().replace("\u2029", "\n").strip()

    def _place_bar(self, entry: Entry) -> None:
        rect = self._decor.rect(entry, self.theme)
        dx = self.horizontalScrollBar().value()
        dy = self.verticalScrollBar().value()
        at = QPoint(int(rect.right() - dx), int(rect.top() - dy) + 4)
        self.action_bar.show_for(entry.key, spoken(entry)[:80], self.message_actions(entry), at)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        from PySide6.QtCore import Qt  # (here: ~13 ms to load, not before the first paint)

        super().mouseMoveEvent(event)
        if event.buttons() != Qt.MouseButton.NoButton:
            return
        y = event.position().y() + self.verticalScrollBar().value()
        entry = self._decor.entry_at(self.entries, y)
        if entry is not None and entry.kind in FOCUSABLE:
            if not self._bar_shown() or entry.key != self.action_bar.key:
                self._place_bar(entry)
        elif self.focused is None:
            self._dismiss_bar()

    def focus_message(self, step: int) -> Entry | None:
        """Move the keyboard focus to the next (+1) or previous (-1) message."""
        entries = self.entries
        if self.focused is not None and self.focused in entries:
            index = entries.index(self.focused) + step
        else:
            shown = [e for e in self._decor.visible(entries) if e.kind in FOCUSABLE]
            if not shown:
                shown = [e for e in entries if e.kind in FOCUSABLE][-1:]
            if not shown:
                return None
            index = entries.index(shown[-1] if step < 0 else shown[0])
        while 0 <= index < len(entries) and entries[index].kind not in FOCUSABLE:
            index += step
        if not 0 <= index < len(entries):
            return self.focused
        self.set_focused(entries[index])
        return self.focused

    def set_focused(self, entry: Entry | None) -> None:
        self.focused = entry
        if entry is None:
            self._dismiss_bar()
            self.viewport().update()
            return
        cursor = self.textCursor()
        if cursor.hasSelection():  # (a link chosen with Tab: Tab now enters the toolbar)
            cursor.clearSelection()
            self.setTextCursor(cursor)
        rect = self._decor.rect(entry, self.theme)
        bar = self.verticalScrollBar()
        if rect.top() < bar.value() or rect.bottom() > bar.value() + self.viewport().height():
            bar.setValue(int(rect.top()) - 24)
        self._place_bar(entry)
        text = spoken(entry)
        self.setAccessibleDescription(text[:2000])
        QAccessible.updateAccessibility(
            QAccessibleEvent(self, QAccessible.Event.DescriptionChanged)
        )
        focus = QAccessibleEvent(self, QAccessible.Event.Focus)  # (the list's item)
        focus.setChild([e for e in self.entries if e.kind in FOCUSABLE].index(entry))
        QAccessible.updateAccessibility(focus)
        self.announce(text[:500])
        self.viewport().update()

    def _forget_focus(self) -> None:
        self.focused = None
        self._dismiss_bar()

    # -- copy and accessibility -----------------------------------------------------------

    def createMimeDataFromSelection(self) -> QMimeData:
        """Everything selected (Ctrl+A): the conversation as Markdown; else the selection."""
        cursor = self.textCursor()
        whole = self.document().characterCount() - 1
        if self.entries and cursor.selectionStart() == 0 and cursor.selectionEnd() >= whole:
            data = QMimeData()
            data.setText(conversation_markdown(self.entries))
            return data
        return super().createMimeDataFromSelection()

    def announce(self, text: str, *, assertive: bool = False) -> None:
        """Say `text` through assistive technology (Qt's announcement event)."""
        event = QAccessibleAnnouncementEvent(self, text)
        politeness = QAccessible.AnnouncementPoliteness
        event.setPoliteness(politeness.Assertive if assertive else politeness.Polite)
        QAccessible.updateAccessibility(event)
        self.announcements = [*self.announcements[-19:], (text, assertive)]
