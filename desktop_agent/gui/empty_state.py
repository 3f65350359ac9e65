"""What a conversation without messages shows instead of an empty transcript: which
model answers and where it runs, which tools are on, three or four suggestions that
fill the composer (buttons: Tab reaches them, Enter/Space picks), the key hints,
and what start-up found (notices)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["SUGGESTIONS", "EmptyState"]

#: (button text, what it puts in the composer)
SUGGESTIONS: list[tuple[str, str]] = [
    ("Explain a concept", "Explain how public-key cryptography works, with a short example."),
    ("Write some code", "Write a Python function that removes duplicate lines from a file."),
    ("Summarise a text", "Summarise the following text in five bullet points:\n\n"),
    ("Plan something", "Help me plan a one-day trip: what should I prepare?"),
]

KEY_HINTS = "Enter sends · Shift+Enter new line · Ctrl+K search · Ctrl+, settings · F1 all keys"


class EmptyState(QWidget):
    suggestion_chosen = Signal(str)  # the text to put in the composer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("empty-state")
        self.setAccessibleName("New conversation")
        self.greeting = QLabel("How can I help you today?", self)
        self.greeting.setAccessibleName("Greeting")
        self.model_label = QLabel("", self)
        self.model_label.setAccessibleName("Model")
        self.model_label.setWordWrap(True)
        self.tools_label = QLabel("", self)
        self.tools_label.setAccessibleName("Tools")
        self.tools_label.setWordWrap(True)
        self.notices = QLabel("", self)
        self.notices.setAccessibleName("Notices")
        self.notices.setWordWrap(True)
        self.notices.hide()
        #: the one-click offer of a better local model (model_offer.py), when shown
        self.offer: QWidget | None = None
        self.suggestions: list[QPushButton] = []
        grid = QGridLayout()
        grid.setSpacing(12)
        for i, (title, text) in enumerate(SUGGESTIONS):
            button = QPushButton(f"{title}\n{_first_line(text)}", self)
            button.setObjectName("suggestion")
            button.setAccessibleName(f"Suggestion: {title}")
            button.setAccessibleDescription(f"Puts this in the message box: {text.strip()}")
            button.setMinimumHeight(56)
            button.clicked.connect(lambda _c=False, text=text: self.suggestion_chosen.emit(text))
            grid.addWidget(button, i // 2, i % 2)
            self.suggestions.append(button)
        self.hints = QLabel(KEY_HINTS, self)
        self.hints.setAccessibleName("Keyboard hints")
        self.hints.setWordWrap(True)
        column = QWidget(self)
        column.setMaximumWidth(640)
        inner = QVBoxLayout(column)
        inner.setSpacing(12)
        inner.addWidget(self.greeting)
        inner.addWidget(self.model_label)
        inner.addWidget(self.tools_label)
        inner.addWidget(self.notices)
        self._inner = inner
        inner.addSpacing(8)
        inner.addLayout(grid)
        inner.addSpacing(8)
        inner.addWidget(self.hints)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(column, 0)
        outer.addStretch(2)
        self._column, self._outer = column, outer

    def finish_setup(self) -> None:
        """After the first paint: the alignment (the `Qt` namespace) and the fonts."""
        from PySide6.QtCore import Qt

        self._outer.setAlignment(self._column, Qt.AlignmentFlag.AlignHCenter)
        font = self.greeting.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setWeight(font.Weight.DemiBold)
        self.greeting.setFont(font)
        for label in (self.greeting, self.model_label, self.tools_label, self.notices, self.hints):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)

    def show_model(self, model: str, where: str) -> None:
        self.model_label.setText(f"{model} · {where}" if where else model)

    def show_tools(self, names: list[str]) -> None:
        if names:
            self.tools_label.setText("Tools on: " + ", ".join(sorted(names)))
        else:
            self.tools_label.setText("No tools are on (Settings → Tools).")

    def set_offer(self, offer: QWidget | None) -> None:
        """Show `offer` under the notices (None: none), in place of the one shown."""
        if self.offer is not None:
            self.offer.hide()
            self.offer.deleteLater()
        self.offer = offer
        if offer is not None:
            self._inner.insertWidget(self._inner.indexOf(self.notices) + 1, offer)

    def add_notice(self, text: str) -> None:
        current = self.notices.text()
        self.notices.setText(f"{current}\n{text}" if current else text)
        self.notices.show()


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0]
    return line if len(line) <= 40 else line[:39] + "…"
