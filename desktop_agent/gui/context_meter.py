"""The context meter and the answer figures in the status bar.

`ConversationFigures` follows one conversation's bridge (its `ContextReport`s and
`UsageReport`s) and keeps what the bar shows for it: the last request's context use,
what was left out or summarised, the last answer's tokens and speed, the totals. A
conversation in the background keeps its own; the bar shows the one on screen.
`ContextMeter` draws it: a small bar (used / total, coloured as it fills), the last
answer's figures, and a button that shows the summary of earlier messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRectF, QSize, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..app.usage_text import (
    UsageTally,
    answer_figures,
    fill_level,
    left_out_text,
    meter_text,
    totals_text,
)

if TYPE_CHECKING:  # (annotations only: nothing of the engine before the first paint)
    from ..engine.events import ContextReport, UsageReport

__all__ = ["ContextBar", "ContextMeter", "ConversationFigures"]

#: The bar's colour by fill level (light theme / dark theme): accent, amber, error.
LEVEL_COLOURS = {"high": ("#b35c00", "#ffb86b"), "full": ("#c30000", "#ff938c")}


class ConversationFigures(QObject):
    """One conversation's context and usage figures, from its events."""

    changed = Signal()  # (no payload: read the attributes)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context: ContextReport | None = None
        self.usage: UsageReport | None = None
        self.tally = UsageTally()

    def follow(self, bridge: QObject) -> None:
        """Take figures from an `EventBridge` (its context and usage signals)."""
        bridge.context_reported.connect(self.on_context)  # type: ignore[attr-defined]
        bridge.usage_reported.connect(self.on_usage)  # type: ignore[attr-defined]

    def load_stored(self, store: Any, conversation_id: str) -> None:
        """The figures of a stored conversation's last request (and its totals), for a
        conversation opened from the history."""
        from ..engine.events import ContextReport, EventMeta, UsageReport
        from ..storage.model_requests import requests_of

        rows = requests_of(store, conversation_id)
        if not rows:
            return
        self.tally = UsageTally()
        for row in rows:
            meta = EventMeta(row.run_id, conversation_id, 0)
            if row.tokens is not None:
                self.context = ContextReport(
                    row.tokens,
                    row.context_window,
                    0,
                    "",
                    0,
                    row.dropped,
                    row.dropped_tokens,
                    row.summary,
                    row.retry,
                    meta=meta,
                )
            if row.prompt_tokens is not None:
                self.usage = UsageReport(
                    row.prompt_tokens,
                    row.completion_tokens or 0,
                    row.prompt_tokens + (row.completion_tokens or 0),
                    row.estimated,
                    row.first_token_ms,
                    row.tokens_per_second,
                    row.cost,
                    meta=meta,
                )
                self.tally.add(self.usage)
        self.changed.emit()

    def on_context(self, event: ContextReport) -> None:
        self.context = event
        self.changed.emit()

    def on_usage(self, event: UsageReport) -> None:
        self.usage = event
        self.tally.add(event)
        self.changed.emit()


class ContextBar(QWidget):
    """A thin bar: the share of the context in use."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(QSize(64, 8))
        self.share = 0.0
        self.level = "low"

    def set_share(self, share: float, level: str) -> None:
        self.share = max(0.0, min(1.0, share))
        self.level = level
        self.update()

    def colour(self) -> QColor:
        palette = self.palette()
        if self.level in LEVEL_COLOURS:
            dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
            return QColor(LEVEL_COLOURS[self.level][1 if dark else 0])
        return palette.color(QPalette.ColorRole.Highlight)

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        track = QColor(self.palette().color(QPalette.ColorRole.Mid))
        rect = QRectF(0, 0, self.width(), self.height())
        painter.setPen(QColor(0, 0, 0, 0))
        painter.setBrush(track)
        painter.drawRoundedRect(rect, 4, 4)
        if self.share > 0:
            painter.setBrush(self.colour())
            painter.drawRoundedRect(QRectF(0, 0, self.width() * self.share, self.height()), 4, 4)
        painter.end()


class ContextMeter(QWidget):
    """Status-bar widget: context bar and text, the last answer's figures, and the
    "Earlier messages summarized" button (shows the summary, or what was left out)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.left_out_button = QPushButton("", self)
        self.left_out_button.setFlat(True)
        self.left_out_button.setAccessibleName("Earlier messages")
        self.left_out_button.setVisible(False)
        self.left_out_button.clicked.connect(self.show_summary)
        self.answer_label = QLabel("", self)
        self.answer_label.setAccessibleName("Last answer's tokens and speed")
        self.bar = ContextBar(self)
        self.bar.setAccessibleName("Context used")
        self.text = QLabel("", self)
        self.text.setAccessibleName("Context used")
        for label in (self.answer_label, self.text):  # secondary text (LOOK.md)
            label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.left_out_button)
        layout.addWidget(self.answer_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.text)
        self.figures: ConversationFigures | None = None
        self.dialog: QDialog | None = None
        self.setVisible(False)

    def show_figures(self, figures: ConversationFigures | None) -> None:
        """Show (and follow) one conversation's figures."""
        if self.figures is not None:
            self.figures.changed.disconnect(self.refresh)
        self.figures = figures
        if figures is not None:
            figures.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        figures = self.figures
        context = figures.context if figures is not None else None
        usage = figures.usage if figures is not None else None
        self.setVisible(context is not None or usage is not None)
        if context is not None:
            self.text.setText(meter_text(context))
            level = fill_level(context.tokens, context.window)
            share = context.tokens / context.window if context.window else 0.0
            self.bar.set_share(share, level)
            self.bar.setVisible(bool(context.window))
            self.bar.setAccessibleDescription(f"{meter_text(context)}, {level}")
            left_out = left_out_text(context)
            self.left_out_button.setVisible(left_out is not None)
            if left_out is not None:
                short = (
                    "Earlier messages summarized"
                    if context.summary
                    else "Earlier messages left out"
                )
                self.left_out_button.setText(short)
                self.left_out_button.setToolTip(left_out)
                self.left_out_button.setAccessibleDescription(left_out)
        else:
            self.text.setText("")
            self.bar.setVisible(False)
            self.left_out_button.setVisible(False)
        if usage is not None and figures is not None:
            self.answer_label.setText(answer_figures(usage))
            self.answer_label.setToolTip(totals_text(figures.tally))
            self.answer_label.setAccessibleDescription(totals_text(figures.tally))
        else:
            self.answer_label.setText("")

    def show_summary(self) -> None:
        """A dialog (not modal to the loop: `open()`) with the summary of what was left
        out, or how much was left out without one."""
        context = self.figures.context if self.figures is not None else None
        if context is None:
            return
        dialog = self.dialog = QDialog(self.window())
        dialog.setWindowTitle("Earlier messages")
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(left_out_text(context) or "Nothing was left out.", dialog))
        text = QPlainTextEdit(dialog)
        text.setReadOnly(True)
        text.setAccessibleName("Summary of earlier messages")
        text.setPlainText(context.summary or "(No summary: these messages were left out.)")
        layout.addWidget(text)
        from PySide6.QtWidgets import QDialogButtonBox  # (on demand: see app.py, start-up)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.resize(520, 320)
        dialog.open()
