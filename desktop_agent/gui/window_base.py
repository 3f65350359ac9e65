"""What every part of the window reads of it (the conversation on screen, the
session, the open dialogs), its signals, and closing: the window stops the session
(runs cancelled, connections closed) before it closes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QMainWindow

if TYPE_CHECKING:
    import asyncio

    from ..app.providers import ConnectionConfig
    from ..app.session import Session
    from ..engine.orchestrator import Orchestrator
    from ..storage import Store
    from .background import Background
    from .bridge import EventBridge
    from .conversation_views import ConversationViews
    from .settings_controller import SettingsController
    from .transcript import Transcript

__all__ = ["WindowBase"]

_log = logging.getLogger(__name__)


class WindowBase(QMainWindow):
    busy_changed = Signal(bool)  # True while the conversation on screen has a run
    ready = Signal()  # the session has started; messages can be sent
    conversation_opened = Signal(str)  # the conversation now on screen
    dialog_opened = Signal(QDialog)  # a dialog the window opened (settings, export...)

    session: Session | None
    views: ConversationViews
    settings: SettingsController
    background: Background
    _dialogs: list[QDialog]
    _closing: bool
    _shutdown_done: bool

    @property
    def transcript(self) -> Transcript:
        return self.views.current.transcript

    @property
    def tenant_id(self) -> str:
        """The conversation on screen (its id is its orchestrator tenant)."""
        return self.views.current_id

    @property
    def busy(self) -> bool:
        return self.views.current.busy

    @property
    def bridge(self) -> EventBridge | None:
        return self.views.current.bridge

    @property
    def config(self) -> ConnectionConfig:
        return self.settings.config

    @property
    def orchestrator(self) -> Orchestrator | None:
        return self.session.orchestrator if self.session is not None else None

    @property
    def store(self) -> Store | None:
        return self.session.store if self.session is not None else None

    @property
    def dialogs(self) -> list[QDialog]:
        """The dialogs open now, oldest first."""
        return list(self._dialogs)

    @property
    def closed(self) -> asyncio.Event:
        """Set once the window has shut down (runs cancelled, connections closed)."""
        return self.background.closed

    def show_dialog(self, dialog: QDialog) -> QDialog:
        """Open a dialog without blocking the loop (not exec()); held until it closes."""
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._dialogs.remove(dialog))
        dialog.open()
        self.dialog_opened.emit(dialog)
        return dialog

    # -- closing ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shutdown_done:
            event.accept()
        else:
            event.ignore()
            if not self._closing:
                self._closing = True
                self.background.spawn(self.shutdown())

    def before_close(self) -> None:
        """What the window keeps of itself for the next start (see MainWindow)."""

    async def shutdown(self) -> None:
        """Close the dialogs, stop watching, stop the session (runs, MCP, models,
        history), then close."""
        if not self.settings.closing:
            try:
                self.before_close()
            except Exception:  # (never in the way of closing)
                _log.exception("could not remember the window's layout")
        self.settings.closing = True
        for dialog in self.dialogs:
            dialog.reject()
        downloads = getattr(self, "_downloads", None)
        if downloads is not None:
            downloads.stop_all()  # paused: the partial files are kept
        self.background.cancel()
        try:
            await self.views.detach()
            if self.session is not None:
                await self.session.aclose()
        except Exception:
            _log.exception("error while shutting down")
        finally:
            self._shutdown_done = True
            self.close()
            self.closed.set()
