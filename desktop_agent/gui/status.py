"""The busy spinner and the tool status bar.

Both are driven only by the run's events (state changes, tool start and end),
never by guesses: the spinner turns while the status is thinking, streaming,
calling a tool or awaiting approval, and stops on done, cancelled or failed.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from PySide6.QtCore import QRectF, QSize, QTimer
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStatusBar, QWidget

from ..app.presentation import argument_summary
from ..engine.status import AgentStatus  # (enum only: no asyncio before the window shows)

__all__ = ["Activity", "Spinner", "ToolStatusBar"]

STATUS_TEXT = {
    AgentStatus.IDLE: "Ready",
    AgentStatus.THINKING: "Thinking…",
    AgentStatus.STREAMING: "Writing…",
    AgentStatus.CALLING_TOOL: "Running tools…",
    AgentStatus.AWAITING_APPROVAL: "Waiting for approval…",
    AgentStatus.DONE: "Ready",
    AgentStatus.CANCELLED: "Stopped",
    AgentStatus.FAILED: "Failed",
}


class Spinner(QWidget):
    """A small rotating arc; `running` is set from the run's status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Busy indicator")
        self.setFixedSize(QSize(16, 16))
        self._angle = 0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.setVisible(False)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def set_running(self, running: bool) -> None:
        if running == self.running:
            return
        if running:
            self._timer.start()
        else:
            self._timer.stop()
        self.setVisible(running)
        self.setAccessibleDescription("busy" if running else "idle")

    def _tick(self) -> None:
        self._angle = (self._angle + 30) % 360
        self.update()

    def paintEvent(self, event: object) -> None:
        from PySide6.QtCore import Qt  # here, not at import: see app.py (start-up)

        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = self.palette().color(QPalette.ColorRole.Highlight)
        track = QColor(color)
        track.setAlpha(50)
        rect = QRectF(2, 2, self.width() - 4, self.height() - 4)
        painter.setPen(QPen(track, 2))
        painter.drawEllipse(rect)
        painter.setPen(QPen(color, 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawArc(rect, -self._angle * 16, 100 * 16)
        painter.end()


class _RunningTool(NamedTuple):
    name: str
    summary: str
    started: float


class Activity:
    """One conversation's run status and tool activity (what the status bar shows
    while that conversation is on screen). Plain data: a conversation in the
    background keeps its own, and the bar shows it again on return."""

    def __init__(self) -> None:
        self.status = AgentStatus.IDLE
        self.running: dict[str, _RunningTool] = {}
        self.finished: list[str] = []  # this run's finished tools, newest last

    def set_status(self, status: AgentStatus) -> None:
        self.status = AgentStatus(status)
        if self.status.finished:
            self.running.clear()

    def begin_run(self) -> None:
        """A new run: forget the last run's tool results."""
        self.finished.clear()
        self.running.clear()
        self.status = AgentStatus.THINKING

    def tool_started(self, call_id: str, name: str, arguments: object) -> None:
        self.running[call_id] = _RunningTool(
            name, argument_summary(arguments, 40), time.monotonic()
        )

    def tool_finished(self, call_id: str, name: str, error: str | None, duration_ms: float) -> None:
        self.running.pop(call_id, None)
        if error:
            self.finished.append(f"✗ {name}: {error}")
        else:
            self.finished.append(f"✓ {name} ({duration_ms:.0f} ms)")
        del self.finished[:-3]

    def tools_text(self) -> str:
        now = time.monotonic()
        running = [
            f"⚙ {t.name}({t.summary}) {now - t.started:.1f} s" for t in self.running.values()
        ]
        return "   ".join(running if running else self.finished)


class ToolStatusBar(QStatusBar):
    """Spinner, run status, running tools with elapsed time, last tool result, model.

    Shows one `Activity` (the conversation on screen); `show_activity` switches."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Status bar")
        self.setSizeGripEnabled(False)
        box = QWidget(self)
        layout = QHBoxLayout(box)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(8)
        self.spinner = Spinner(box)
        self.state_label = QLabel(STATUS_TEXT[AgentStatus.IDLE], box)
        self.state_label.setAccessibleName("Agent status")
        self.tools_label = QLabel("", box)
        self.tools_label.setAccessibleName("Tool activity")
        self.tools_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.spinner)
        layout.addWidget(self.state_label)
        layout.addWidget(self.tools_label, 1)
        self.addWidget(box, 1)
        self.model_label = QLabel("", self)
        self.model_label.setAccessibleName("Model and where it runs")
        self.addPermanentWidget(self.model_label)
        self.activity = Activity()
        self._plain = False
        self._link: str | None = None  # the link target shown (see show_link)
        self._ticker = QTimer(self)
        self._ticker.setInterval(100)
        self._ticker.timeout.connect(self._refresh_tools)

    @property
    def status(self) -> AgentStatus:
        return self.activity.status

    def show_activity(self, activity: Activity) -> None:
        self.activity = activity
        self.refresh()

    def refresh(self) -> None:
        """Show the activity as it is now."""
        status = self.activity.status
        self.spinner.set_running(status.busy)
        self.state_label.setText(STATUS_TEXT[status])
        if self.activity.running:
            if not self._ticker.isActive():
                self._ticker.start()
        else:
            self._ticker.stop()
        self._refresh_tools()

    def show_link(self, target: str) -> None:
        """The real target of the link under the mouse ("" when it leaves the link)."""
        if target:
            self._link = target
            self.showMessage(target)
        elif self._link is not None:
            if self.currentMessage() == self._link:
                self.clearMessage()
            self._link = None

    def set_model(self, text: str) -> None:
        self.model_label.setText(text)

    @property
    def tools_text(self) -> str:
        return self.tools_label.text()

    def _refresh_tools(self) -> None:
        text = self.activity.tools_text()
        if not text and not self.tools_label.text():
            return  # (nothing to show: the start-up path does not touch `Qt`)
        if not self._plain:
            from PySide6.QtCore import Qt

            self.tools_label.setTextFormat(Qt.TextFormat.PlainText)  # tool arguments are data
            self._plain = True
        self.tools_label.setText(text)
