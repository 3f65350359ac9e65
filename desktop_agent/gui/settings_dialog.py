"""The Settings dialog (Ctrl+,): one dialog, a navigation list of pages (General,
Providers, Tools, MCP servers, Appearance, Shortcuts, About; others join with
`add_page`), problems shown next to the field they are about.

Opened with `open()` (window-modal, non-blocking): a blocking `exec()` would
re-enter the asyncio loop that qasync runs on Qt's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from ..app.providers import ConnectionConfig, Providers
from ..app.settings import ToolSettings
from .settings_pages import AboutPage, GeneralPage, PageNav, ShortcutsDialog, shortcuts_table
from .settings_providers import PRESETS, ProvidersPage

if TYPE_CHECKING:
    from .mcp_page import McpPage
    from .tools_page import ToolsPage

__all__ = ["PRESETS", "SettingsDialog", "ShortcutsDialog"]  # (ShortcutsDialog: settings_pages)


class SettingsDialog(QDialog):
    """The pages and Save: the Providers page (`settings_providers`) and what it holds
    are reachable from here too (`dialog.list`, `dialog.base_url`, `current()` …)."""

    saved = Signal(object)  # the new Providers (API keys already stored)
    tools_saved = Signal(object)  # the new ToolSettings (when the Tools page was given)

    def __init__(
        self,
        providers: Providers | ConnectionConfig,
        parent: QWidget | None = None,
        discovered: list[Any] | None = None,
        credentials: Any = None,
        tool_settings: ToolSettings | None = None,
        mcp: Any = None,
        spawn: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        if isinstance(providers, ConnectionConfig):
            providers = Providers([providers], providers.id)
        self.credentials = credentials
        #: (page, validate, apply) of the pages other parts add (see `on_save`)
        self._on_save: list[tuple[str, Callable[[], bool], Callable[[], None]]] = []
        page = self.providers_page = ProvidersPage(providers, self, discovered, credentials)
        # (the page's parts, under the names the dialog has always had)
        self.list, self.add_button, self.remove_button = (
            page.list,
            page.add_button,
            page.remove_button,
        )
        self.name, self.preset, self.is_default = page.name, page.preset, page.is_default
        self.gguf_path, self.n_ctx, self.base_url = page.gguf_path, page.n_ctx, page.base_url
        self.base_url_error, self.api_key, self.model = (
            page.base_url_error,
            page.api_key,
            page.model,
        )
        self.test_button = self.load_models = page.test_button
        self.temperature, self.system_prompt = page.temperature, page.system_prompt
        self.context_fields, self.protocol = page.context_fields, page.protocol
        self.result_label, self.key_note = page.result_label, page.key_note
        self.current, self.providers, self.validate = page.current, page.providers, page.validate
        self.add_provider, self.test_connection = page.add_provider, page.test_connection

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.pages = PageNav(self)
        # (where keys are kept: said once, on General; the Providers form fills 600 px)
        self.pages.add_page("General", GeneralPage(self.key_note, self))
        self.pages.add_page("Providers", page)
        self.tools_page: ToolsPage | None = None
        if tool_settings is not None:
            from .tools_page import ToolsPage

            self.tools_page = ToolsPage(tool_settings, self)
            self.pages.add_page("Tools", self.tools_page)
        self.mcp_page: McpPage | None = None
        if mcp is not None and spawn is not None:
            from .mcp_page import McpPage

            self.mcp_page = McpPage(mcp, spawn, self)
            self.pages.add_page("MCP servers", self.mcp_page)
        from .shortcuts import SHORTCUTS

        self.pages.add_page("Shortcuts", shortcuts_table(SHORTCUTS, self))
        self.pages.add_page("About", AboutPage(self))
        self.pages.show_page("Providers")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.pages, 1)
        layout.addWidget(buttons)
        self.resize(900, 600)

    @property
    def items(self) -> list[ConnectionConfig]:
        return self.providers_page.items

    @property
    def default_id(self) -> str:
        return self.providers_page.default_id

    @property
    def config(self) -> ConnectionConfig:
        """The provider being edited, as it was before the edits."""
        return self.providers_page.config

    def add_page(self, name: str, widget: QWidget, *, before: str | None = None) -> None:
        """Another page in the navigation list (at the end, or before `before`)."""
        self.pages.add_page(name, widget, before=before)

    def on_save(self, page: str, validate: Callable[[], bool], apply: Callable[[], None]) -> None:
        """Save checks `validate` (False: shows `page`, stays open), then calls `apply`."""
        self._on_save.append((page, validate, apply))

    def refresh_mcp(self) -> None:
        if self.mcp_page is not None:
            self.mcp_page.refresh()

    def save(self) -> None:
        if not self.validate():
            self.pages.show_page("Providers")
            self.base_url.setFocus()
            return
        for page, validate, _apply in self._on_save:
            if not validate():
                self.pages.show_page(page)
                validate()  # (again, now shown: the wrong field takes the focus)
                return
        providers = self.providers()
        self.providers_page.store_keys(providers)
        self.saved.emit(providers)
        if self.tools_page is not None:
            self.tools_saved.emit(self.tools_page.current())
        if self.mcp_page is not None and self.mcp_page.changed():
            self.mcp_page.apply()  # (Save applies the MCP editor too)
        for _page, _validate, apply in self._on_save:
            apply()
        self.accept()
