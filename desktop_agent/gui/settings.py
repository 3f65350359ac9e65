"""Dialogs: connection settings (Ctrl+,) and the keyboard shortcuts list (F1).

Both are opened with `open()` (window-modal, non-blocking): a blocking `exec()`
would re-enter the asyncio loop that qasync runs on Qt's.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..config import ConnectionConfig

__all__ = ["PRESETS", "SettingsDialog", "ShortcutsDialog"]

#: (label, kind, base URL): where people usually connect.
PRESETS: list[tuple[str, str, str | None]] = [
    ("On this computer (embedded model)", "local", None),
    ("OpenAI", "openai", "https://api.openai.com/v1"),
    ("Ollama", "openai", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "openai", "http://127.0.0.1:1234/v1"),
    ("llama.cpp server", "openai", "http://127.0.0.1:8080/v1"),
    ("vLLM", "openai", "http://127.0.0.1:8000/v1"),
    ("OpenRouter", "openai", "https://openrouter.ai/api/v1"),
    ("Custom", "openai", None),
]


class SettingsDialog(QDialog):
    saved = Signal(object)  # the new ConnectionConfig

    def __init__(
        self,
        config: ConnectionConfig,
        parent: QWidget | None = None,
        discovered: list[Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self.config = config
        form = QFormLayout()
        self.preset = QComboBox(self)
        self.preset.setAccessibleName("Connect to")
        self._presets: list[tuple[str, str, str | None, bool]] = [
            (label, kind, url, False) for label, kind, url in PRESETS
        ]
        for server in discovered or []:
            self._presets.append((f"Found: {server.label()}", "openai", server.base_url, True))
        for label, *_ in self._presets:
            self.preset.addItem(label)
        self.preset.setCurrentIndex(self._preset_index(config))
        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.gguf_path = QLineEdit(config.gguf_path, self)
        self.gguf_path.setAccessibleName("Local model file (GGUF)")
        self.gguf_path.setPlaceholderText("SmolLM2-135M-Instruct (installed with the local extra)")
        browse = QPushButton("Browse…", self)
        browse.setAccessibleName("Choose a GGUF file")
        browse.clicked.connect(self._browse)
        gguf_row = QHBoxLayout()
        gguf_row.addWidget(self.gguf_path, 1)
        gguf_row.addWidget(browse)
        self.n_ctx = QSpinBox(self)
        self.n_ctx.setRange(256, 131072)
        self.n_ctx.setSingleStep(1024)
        self.n_ctx.setValue(config.n_ctx)
        self.n_ctx.setAccessibleName("Context size (tokens)")
        self.base_url = QLineEdit(config.base_url, self)
        self.base_url.setAccessibleName("Base URL")
        self.api_key = QLineEdit(config.api_key, self)
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setAccessibleName("API key")
        self.api_key.setPlaceholderText("not needed for local servers")
        self.model = QComboBox(self)
        self.model.setEditable(True)
        self.model.setAccessibleName("Model")
        self.model.addItem(config.model)
        self.model.setCurrentText(config.model)
        self.load_models = QPushButton("List models", self)
        self.load_models.setAccessibleName("List the endpoint's models")
        self.load_models.clicked.connect(self._list_models)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.load_models)
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(-0.01, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("server default")
        self.temperature.setValue(config.temperature if config.temperature is not None else -0.01)
        self.temperature.setAccessibleName("Temperature")
        self.system_prompt = QPlainTextEdit(config.system_prompt, self)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(90)
        self.result_label = QLabel("", self)
        self.result_label.setAccessibleName("Connection result")
        self.result_label.setWordWrap(True)
        form.addRow("Connect to", self.preset)
        form.addRow("Base URL", self.base_url)
        form.addRow("API key", self.api_key)
        form.addRow("Model", model_row)
        form.addRow("Temperature", self.temperature)
        form.addRow("System prompt", self.system_prompt)
        form.addRow("Local model file", gguf_row)
        form.addRow("Context size", self.n_ctx)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        note = QLabel("The API key is kept for this session only.", self)
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._task: asyncio.Task[None] | None = None
        self.base_url.setEnabled(self._presets[self.preset.currentIndex()][1] != "local")

    def _preset_index(self, config: ConnectionConfig) -> int:
        for i, (_label, kind, url, _found) in enumerate(self._presets):
            if kind == config.kind == "local" or (kind == config.kind and url == config.base_url):
                return i
        return next(i for i, p in enumerate(self._presets) if p[0] == "Custom")

    def _apply_preset(self, index: int) -> None:
        _label, kind, url, _found = self._presets[index]
        if kind == "openai" and url:
            self.base_url.setText(url)
        self.base_url.setEnabled(kind != "local")

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        dialog.fileSelected.connect(self.gguf_path.setText)
        dialog.open()  # not exec(): the asyncio loop runs on Qt's

    def current(self) -> ConnectionConfig:
        temp = self.temperature.value()
        _label, kind, url, found = self._presets[self.preset.currentIndex()]
        gguf = self.gguf_path.text().strip()
        model = self.model.currentText().strip() or self.config.model
        if kind == "local":
            from ..config import local_model_label

            model = local_model_label(replace(self.config, gguf_path=gguf))
        return replace(
            self.config,
            kind=kind,
            gguf_path=gguf,
            n_ctx=self.n_ctx.value(),
            picked_server=(url or "") if found else self.config.picked_server,
            base_url=self.base_url.text().strip() or self.config.base_url,
            api_key=self.api_key.text().strip(),
            model=model,
            temperature=None if temp < 0 else round(temp, 2),
            system_prompt=self.system_prompt.toPlainText().strip(),
        )

    def _save(self) -> None:
        self.saved.emit(self.current())
        self.accept()

    def _list_models(self) -> None:
        self.result_label.setText("Asking the endpoint for its models…")
        self._task = asyncio.ensure_future(self._fetch_models(self.current()))

    async def _fetch_models(self, config: ConnectionConfig) -> None:
        from ..engine import ModelError
        from ..providers.openai import OpenAIClient

        client = OpenAIClient(
            api_key=config.api_key or None, model=config.model, base_url=config.base_url
        )
        try:
            models = await client.list_models()
        except ModelError as exc:
            self.result_label.setText(
                f"Could not list models: {exc}  (type the model name instead)"
            )
            return
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(current if current in models or not models else models[0])
        self.result_label.setText(f"Connected: {len(models)} models at {config.host}.")


class ShortcutsDialog(QDialog):
    def __init__(self, shortcuts: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        table = QTableWidget(len(shortcuts), 2, self)
        table.setAccessibleName("Shortcut list")
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, what) in enumerate(shortcuts):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(what))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
        self.resize(480, 420)
