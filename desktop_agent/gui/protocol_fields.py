"""The Settings form's protocol rows: which OpenAI wire a provider speaks (Chat
Completions, Responses, Auto) and an AG-UI agent's extra headers."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QFormLayout, QPlainTextEdit, QWidget

from ..app.providers import ConnectionConfig

__all__ = ["APIS", "ProtocolFields"]

#: (shown, ConnectionConfig.api)
APIS = [("Chat Completions", "chat"), ("Responses", "responses"), ("Auto (probe once)", "auto")]


class ProtocolFields:
    """Adds the "API" and "Headers" rows to `form`."""

    def __init__(self, parent: QWidget, form: QFormLayout) -> None:
        self.api = QComboBox(parent)
        self.api.setAccessibleName("API")
        self.api.setToolTip("Which OpenAI wire to speak: /chat/completions or /responses")
        for label, _value in APIS:
            self.api.addItem(label)
        self.headers = QPlainTextEdit(parent)
        self.headers.setAccessibleName("HTTP headers for the AG-UI agent")
        self.headers.setPlaceholderText("Name: value, one a line (the API key goes as Bearer)")
        self.headers.setTabChangesFocus(True)
        self.headers.setMaximumHeight(60)
        form.addRow("API", self.api)
        form.addRow("Headers", self.headers)
        self._form = form

    def load(self, config: ConnectionConfig) -> None:
        values = [value for _label, value in APIS]
        self.api.setCurrentIndex(values.index(config.api) if config.api in values else 0)
        self.headers.setPlainText(config.headers)
        self.show_for(config.kind)

    def show_for(self, kind: str) -> None:
        """Only the rows that apply to this kind of provider are shown."""
        self._form.setRowVisible(self.api, kind == "openai")
        self._form.setRowVisible(self.headers, kind == "agui")

    def apply(self, config: ConnectionConfig) -> ConnectionConfig:
        return replace(
            config,
            api=APIS[self.api.currentIndex()][1],
            headers=self.headers.toPlainText().strip(),
        )
