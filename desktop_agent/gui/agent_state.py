"""The AG-UI agent's shared state for the conversation on screen (Ctrl+Shift+S): what
its last STATE_SNAPSHOT / STATE_DELTA left, as JSON, read-only."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

__all__ = ["AgentStateDialog", "agent_state_text"]

NO_STATE = "This conversation's agent has sent no state (only AG-UI agents do)."


def agent_state_text(model: Any, messages: Any) -> str:
    """The state `model` (an `AguiAgent`) keeps for the conversation, as JSON."""
    state_of = getattr(model, "state_of", None)
    state = state_of(messages) if state_of is not None else None
    if state is None:
        return NO_STATE
    return json.dumps(state, indent=2, ensure_ascii=False, default=str)


class AgentStateDialog(QDialog):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agent state")
        label = QLabel("The agent's shared state (AG-UI STATE_SNAPSHOT / STATE_DELTA):", self)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setAccessibleName("Agent state")
        self.view.setPlainText(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.view)
        layout.addWidget(buttons)
        self.resize(520, 360)
