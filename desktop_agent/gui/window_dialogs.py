"""The window's dialogs: Settings (with the pages the chrome adds), the shortcuts
list, import, the AG-UI agent's state, Models (and the downloads behind it), and the
conversation's context (compact now, its own reserve and strategy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QWidget

from .shortcuts import SHORTCUTS
from .window_base import WindowBase

if TYPE_CHECKING:
    from pathlib import Path

    from .chrome import Chrome
    from .conversation_list_controller import ConversationListController
    from .downloads import DownloadManager
    from .model_offer import LocalModels
    from .status import ToolStatusBar

__all__ = ["WindowDialogs"]


class WindowDialogs(WindowBase):
    chrome: Chrome
    conversations: ConversationListController
    status: ToolStatusBar
    _downloads: DownloadManager | None
    _local_models: LocalModels | None = None

    def open_settings(self) -> QDialog:
        """Ctrl+,: the Settings dialog (returned: it is open)."""
        return self.open_settings_at(None)

    def open_settings_at(self, page: str | None) -> QDialog:
        """The Settings dialog showing `page` (None: where it opens by itself)."""
        from .settings_hosted import add_window_pages

        dialog = self.chrome.add_pages(self.settings.open_dialog(self))
        add_window_pages(self, dialog)
        pages = getattr(dialog, "pages", None)
        if page is not None and pages is not None:
            pages.show_page(page)
        return self.show_dialog(dialog)

    def show_shortcuts(self) -> QDialog:
        from .settings_dialog import ShortcutsDialog

        return self.show_dialog(ShortcutsDialog(SHORTCUTS, self))

    def open_import(
        self, path: Path | None = None, parent: QWidget | None = None
    ) -> QDialog | None:
        """Ctrl+Shift+O: import conversations from a file (`path`: at once, no picker;
        `parent`: the dialog it opens over, e.g. Settings)."""
        if self.store is None:
            self.status.showMessage("Conversations are not kept in this session", 5000)
            return None
        from .import_dialog import ImportDialog

        dialog = ImportDialog(self.store.file, parent or self)
        dialog.imported.connect(lambda added: self.conversations.reload() if added else None)
        self.show_dialog(dialog)
        if path is not None:
            dialog.start(path)
        return dialog

    def show_agent_state(self) -> QDialog | None:
        """The AG-UI agent's shared state for the conversation on screen."""
        from .agent_state import NO_STATE, AgentStateDialog, agent_state_text

        text = NO_STATE
        if self.session is not None:
            orchestrator = self.session.orchestrator
            model = orchestrator.config_for(self.tenant_id).model
            text = agent_state_text(model, orchestrator.messages(self.tenant_id))
        return self.show_dialog(AgentStateDialog(text, self))

    @property
    def downloads(self) -> DownloadManager:
        """Model downloads (they go on while you chat; the status bar shows them)."""
        if self._downloads is None:
            from .models_page import attach_downloads

            self._downloads = attach_downloads(self, self.status)
        return self._downloads

    @property
    def local_models(self) -> LocalModels:
        """Downloads used once installed ("Download and use"), and the empty state's offer."""
        if self._local_models is None:
            from .model_offer import LocalModels

            self._local_models = LocalModels(self.downloads, self.settings, self)
        return self._local_models

    def open_models(self) -> QDialog:
        """Ctrl+Shift+M: Settings on the Models page (returned: it is open)."""
        return self.open_settings_at("Models")

    def compact_now(self) -> None:
        """ "Compact now": the conversation's next request leaves out or summarises more."""
        if self.session is None:
            return
        self.session.compact_now(self.tenant_id)
        self.status.showMessage(
            "Compacting: the next message is sent with older messages summarized or left out.",
            5000,
        )

    def conversation_context(self) -> QDialog | None:
        """This conversation's own reserve and strategy (a dialog; saved with it)."""
        session = self.session
        if session is None:
            return None
        from .context_settings import ConversationContextDialog

        conversation = self.tenant_id
        dialog = ConversationContextDialog(session.context_policy(conversation), self)
        dialog.chosen.connect(lambda policy: session.set_context_policy(conversation, policy))
        self.show_dialog(dialog)
        return dialog
