"""The Settings dialog's Providers page: several saved connections (presets or
custom), one of them the default for new conversations; each with base URL, API key,
model (listed from the endpoint, or typed), temperature and system prompt; Test
connection; where the API keys are kept."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..app.providers import ConnectionConfig, Providers, new_provider_id
from .context_settings import ContextFields
from .protocol_fields import ProtocolFields
from .settings_pages import problem_label, show_problem

__all__ = ["PRESETS", "ProvidersPage"]

#: (label, kind, base URL): where people usually connect.
PRESETS: list[tuple[str, str, str | None]] = [
    ("On this computer (embedded model)", "local", None),
    ("OpenAI", "openai", "https://api.openai.com/v1"),
    ("Ollama", "openai", "http://127.0.0.1:11434/v1"),
    ("LM Studio", "openai", "http://127.0.0.1:1234/v1"),
    ("llama.cpp server", "openai", "http://127.0.0.1:8080/v1"),
    ("vLLM", "openai", "http://127.0.0.1:8000/v1"),
    ("OpenRouter", "openai", "https://openrouter.ai/api/v1"),
    ("AG-UI agent (its URL)", "agui", None),
    ("Custom", "openai", None),
]


class ProvidersPage(QWidget):
    """The provider list and the selected provider's form (`items`, `default_id`:
    the providers as edited; `providers()` gives them with the form applied)."""

    def __init__(
        self,
        providers: Providers,
        parent: QWidget | None = None,
        discovered: list[Any] | None = None,
        credentials: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setAccessibleName("Providers")
        self.items: list[ConnectionConfig] = list(providers.items)
        self.default_id = providers.default_id
        self.credentials = credentials
        self._row = -1
        self._removed: list[str] = []
        self._task: asyncio.Task[None] | None = None
        # -- the list of providers ------------------------------------------------
        self.list = QListWidget(self)
        self.list.setAccessibleName("Providers")
        self.list.setWordWrap(True)  # (long names wrap: no sideways scrolling)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.add_button = QPushButton("Add…", self)
        self.add_button.setAccessibleName("Add a provider")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setAccessibleName("Remove the provider")
        self.remove_button.clicked.connect(self._remove)
        self._add_menu = QMenu(self)
        self.add_button.setMenu(self._add_menu)
        list_box = QVBoxLayout()
        list_box.addWidget(self.list, 1)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.add_button)
        buttons_row.addWidget(self.remove_button)
        list_box.addLayout(buttons_row)

        # -- the selected provider ------------------------------------------------
        form = QFormLayout()
        form.setVerticalSpacing(4)  # (the form fits 900×600 with the context fields)
        self.name = QLineEdit(self)
        self.name.setAccessibleName("Provider name")
        self.preset = QComboBox(self)
        self.preset.setAccessibleName("Connect to")
        self._presets: list[tuple[str, str, str | None, bool]] = [
            (label, kind, url, False) for label, kind, url in PRESETS
        ]
        for server in discovered or []:
            self._presets.append((f"Found: {server.label()}", "openai", server.base_url, True))
        for label, *_ in self._presets:
            self.preset.addItem(label)
            self._add_menu.addAction(label, functools.partial(self.add_provider, label))
        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.is_default = QCheckBox("Use for new conversations", self)
        self.is_default.setAccessibleName("Default provider")
        self.gguf_path = QLineEdit(self)
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
        self.n_ctx.setAccessibleName("Context size (tokens)")
        self.base_url = QLineEdit(self)
        self.base_url.setAccessibleName("Base URL")
        self.base_url.setAccessibleDescription("Where the OpenAI-compatible API is: http(s)://…")
        self.base_url_error = problem_label(self, "Base URL problem")  # (under the field)
        self.base_url.textChanged.connect(lambda _t: self.validate())
        self.api_key = QLineEdit(self)
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setAccessibleName("API key")
        self.api_key.setPlaceholderText("not needed for local servers")
        self.model = QComboBox(self)
        self.model.setEditable(True)
        self.model.setAccessibleName("Model")
        self.test_button = QPushButton("Test connection", self)
        self.test_button.setAccessibleName("Test the connection and list its models")
        self.test_button.clicked.connect(self.test_connection)
        self.load_models = self.test_button  # (the button lists the models too)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(self.test_button)
        self.temperature = QDoubleSpinBox(self)
        self.temperature.setRange(-0.01, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("server default")
        self.temperature.setAccessibleName("Temperature")
        self.system_prompt = QPlainTextEdit(self)
        self.system_prompt.setAccessibleName("System prompt")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(72)
        self.context_fields = ContextFields(self)  # (issue 16)
        self.result_label = QLabel("", self)
        self.result_label.setAccessibleName("Connection result")
        self.result_label.setWordWrap(True)
        form.addRow("Name", self.name)
        form.addRow("Connect to", self.preset)
        form.addRow("", self.is_default)
        form.addRow("Base URL", self.base_url)
        form.addRow("", self.base_url_error)
        form.addRow("API key", self.api_key)
        form.addRow("Model", model_row)
        form.addRow("Temperature", self.temperature)
        form.addRow("System prompt", self.system_prompt)
        form.addRow("Local model file", gguf_row)
        form.addRow("Context size", self.n_ctx)
        self._form, self._gguf_row = form, gguf_row
        self.protocol = ProtocolFields(self, form)
        form.addRow("Context", self.context_fields)
        form.addRow("", self.result_label)
        body = QHBoxLayout()
        body.addLayout(list_box, 1)
        body.addLayout(form, 3)
        page_layout = QVBoxLayout(self)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addLayout(body)
        # (shown on General: where keys are kept is said once; this form fills 600 px)
        self.key_note = QLabel(self._key_note(), self)
        self.key_note.setAccessibleName("Where API keys are kept")
        self.key_note.setWordWrap(True)
        self._refill_list()
        self.list.currentRowChanged.connect(self._select)
        default_row = next((i for i, c in enumerate(self.items) if c.id == self.default_id), 0)
        self.list.setCurrentRow(default_row)
        self._select(default_row)

    # -- the key store ------------------------------------------------------------------

    def _key_note(self) -> str:
        store = self.credentials
        if store is None:
            return "API keys are kept for this session only."
        if store.secure_store:
            return f"API keys are kept in {store.where}, never in the settings file."
        why = f" ({store.fallback_reason})" if store.fallback_reason else ""
        return (
            f"No system keyring is available here{why}: API keys are kept in {store.where}, "
            "never in the settings file."
        )

    # -- the list -----------------------------------------------------------------------

    def _refill_list(self) -> None:
        from PySide6.QtCore import QSignalBlocker

        with QSignalBlocker(self.list):
            row = self.list.currentRow()
            self.list.clear()
            for config in self.items:
                mark = "  (default)" if config.id == self.default_id else ""
                self.list.addItem(f"{config.title}{mark}")
            if 0 <= row < self.list.count():
                self.list.setCurrentRow(row)
        self.remove_button.setEnabled(len(self.items) > 1)

    def _select(self, row: int) -> None:
        if self._row >= 0 and self._row < len(self.items) and row != self._row:
            self.items[self._row] = self.current()
            self._refill_list()
            self.list.setCurrentRow(row)
        self._row = row
        if 0 <= row < len(self.items):
            self._load(self.items[row])

    def _load(self, config: ConnectionConfig) -> None:
        from PySide6.QtCore import QSignalBlocker

        with QSignalBlocker(self.preset):
            self.preset.setCurrentIndex(self._preset_index(config))
        self.name.setText(config.name)
        self.is_default.setChecked(config.id == self.default_id)
        self.gguf_path.setText(config.gguf_path)
        self.n_ctx.setValue(config.n_ctx)
        self.base_url.setText(config.base_url)
        from ..providers.env_key import environment_key

        from_env = environment_key(config.base_url)
        # The provider's own key only: OPENAI_API_KEY is not put in the field, so it
        # is neither saved with the provider nor follows it to another address.
        key = "" if config.api_key == from_env else config.api_key
        if not key and self.credentials is not None and config.kind != "local":
            key = self.credentials.get(config.id)
        self.api_key.setText(key)
        self.api_key.setPlaceholderText(
            "empty: OPENAI_API_KEY (environment) is used for this address"
            if from_env
            else "not needed for local servers"
        )
        self.model.clear()
        self.model.addItem(config.model)
        self.model.setCurrentText(config.model)
        self.temperature.setValue(config.temperature if config.temperature is not None else -0.01)
        self.system_prompt.setPlainText(config.system_prompt)
        self._show_rows_for(config.kind)
        self.protocol.load(config)
        self.result_label.setText("")
        self.context_fields.load(config)

    @property
    def config(self) -> ConnectionConfig:
        """The provider being edited, as it was before the edits."""
        return self.items[max(self._row, 0)]

    def add_provider(self, preset_label: str) -> ConnectionConfig:
        """Add a provider from a preset and select it."""
        if 0 <= self._row < len(self.items):
            self.items[self._row] = self.current()
        _label, kind, url, found = next(p for p in self._presets if p[0] == preset_label)
        base = ConnectionConfig()
        config = replace(
            base,
            id=new_provider_id(),
            name=preset_label.removeprefix("Found: "),
            kind=kind if kind in ("local", "agui") else "openai",
            base_url=url or base.base_url,
            picked_server=(url or "") if found else "",
        )
        self.items.append(config)
        self._row = -1
        self._refill_list()
        self.list.setCurrentRow(len(self.items) - 1)
        self._select(len(self.items) - 1)
        self.name.setFocus()
        return config

    def _remove(self) -> None:
        if len(self.items) <= 1 or not 0 <= self._row < len(self.items):
            return
        gone = self.items.pop(self._row)
        if gone.id == self.default_id:
            self.default_id = self.items[0].id
        self._removed.append(gone.id)  # its key is forgotten on Save
        self._row = -1
        self._refill_list()
        self.list.setCurrentRow(0)
        self._select(0)

    # -- the form -----------------------------------------------------------------------

    def _preset_index(self, config: ConnectionConfig) -> int:
        for i, (_label, kind, url, _found) in enumerate(self._presets):
            if kind == config.kind and (kind in ("local", "agui") or url == config.base_url):
                return i
        return next(i for i, p in enumerate(self._presets) if p[0] == "Custom")

    def _apply_preset(self, index: int) -> None:
        _label, kind, url, _found = self._presets[index]
        if kind == "openai" and url:
            self.base_url.setText(url)
        self._show_rows_for(kind)
        self.protocol.show_for(kind)

    def _show_rows_for(self, kind: str) -> None:
        """The form shows the rows that apply to this kind of provider only."""
        self.base_url.setEnabled(kind != "local")
        self._form.setRowVisible(self._gguf_row, kind == "local")
        self._form.setRowVisible(self.n_ctx, kind == "local")

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        dialog.fileSelected.connect(self.gguf_path.setText)
        dialog.open()  # not exec(): the asyncio loop runs on Qt's

    def current(self) -> ConnectionConfig:
        """The selected provider as the form shows it."""
        config = self.config
        temp = self.temperature.value()
        _label, kind, url, found = self._presets[self.preset.currentIndex()]
        gguf = self.gguf_path.text().strip()
        model = self.model.currentText().strip() or config.model
        if kind == "local":
            from ..app.providers import local_model_label

            model = local_model_label(replace(config, gguf_path=gguf))
        if self.is_default.isChecked():
            self.default_id = config.id
        config = self.protocol.apply(config)
        config = self.context_fields.apply(config)
        return replace(
            config,
            name=self.name.text().strip(),
            kind=kind,
            gguf_path=gguf,
            n_ctx=self.n_ctx.value(),
            picked_server=(url or "") if found else config.picked_server,
            base_url=self.base_url.text().strip() or config.base_url,
            api_key=self.api_key.text().strip(),
            model=model,
            temperature=None if temp < 0 else round(temp, 2),
            system_prompt=self.system_prompt.toPlainText().strip(),
        )

    def providers(self) -> Providers:
        """Everything as edited (the selected provider's form included)."""
        if 0 <= self._row < len(self.items):
            self.items[self._row] = self.current()
        return Providers(list(self.items), self.default_id)

    def validate(self) -> bool:
        """Check the fields; a problem is shown next to its field. True when none."""
        config_kind = self._presets[self.preset.currentIndex()][1] if self._presets else ""
        url = self.base_url.text().strip()
        problem = ""
        if config_kind != "local" and url and not url.startswith(("http://", "https://")):
            problem = "The base URL must start with http:// or https://"
        return show_problem(self.base_url_error, problem)

    def store_keys(self, providers: Providers) -> None:
        """Keep the API keys in the key store (and forget the removed providers')."""
        if self.credentials is None:
            return
        for config in providers.items:
            if config.kind != "local":
                self.credentials.set(config.id, config.api_key)
        for gone in self._removed:
            self.credentials.delete(gone)

    # -- Test connection ------------------------------------------------------------------

    def test_connection(self) -> None:
        self.result_label.setText("Connecting…")
        self._task = asyncio.ensure_future(self._fetch_models(self.current()))

    async def _fetch_models(self, config: ConnectionConfig) -> None:
        from .connection_check import check_connection

        problem, models, local_note = await check_connection(config)
        if problem or local_note:
            self.result_label.setText(problem or local_note)
            return
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(models)
        self.model.setCurrentText(current if current in models or not models else models[0])
        chosen = self.model.currentText()
        found = "is available" if chosen in models else "is not among them"
        self.result_label.setText(
            f"✓ Connected to {config.host}: {len(models)} models; {chosen!r} {found}."
        )
