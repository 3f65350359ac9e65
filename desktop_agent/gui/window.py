"""The main window: conversations on the left, the one on screen on the right
(transcript, composer), a status bar; every action on the keyboard.

The window is layout and wiring. What happens to conversations is the session's
(`app/session.py`: orchestrator, recorder, `ConversationActions`); what the window
decides lives in small controllers: `ConversationViews` (the transcripts in the
stack), `RunController` (send, stop, regenerate, edit, versions),
`ConversationListController` (the list: delete and undo, export, rename, Ctrl+K),
`ApprovalController` and `SettingsController` (providers, tools, MCP). Closing
the window stops the session (runs cancelled, connections closed) before the app
quits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QMainWindow, QSplitter

from ..app.providers import ConnectionConfig, Providers
from ..app.settings import ToolSettings
from .approval_controller import ApprovalController
from .attach_input import AttachInput, settings_limits
from .background import Background
from .conversation import ConversationView
from .conversation_list_controller import ConversationListController
from .conversation_pane import ConversationPane
from .conversation_views import ConversationViews
from .import_drop import ImportDrop
from .run_controller import RunController
from .settings_controller import SettingsController
from .shortcuts import SHORTCUTS, add_actions
from .sidebar import Sidebar
from .status import ToolStatusBar
from .theme import Theme

if TYPE_CHECKING:
    import asyncio
    from pathlib import Path

    from ..app.mcp_setup import McpSetup
    from ..app.session import Session
    from ..engine.events import UserMessage
    from ..engine.model import ChatModel, Timeouts
    from ..engine.orchestrator import Orchestrator
    from ..engine.tools import Tool
    from ..storage import Store
    from .bridge import EventBridge
    from .downloads import DownloadManager
    from .transcript import Transcript

# asyncio, the engine, the session and the bridge are imported when first used,
# after the window is on screen: start-up paints first (see app.py).

__all__ = ["SHORTCUTS", "MainWindow"]

_log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """desktop-agent's window."""

    busy_changed = Signal(bool)  # True while the conversation on screen has a run
    ready = Signal()  # the session has started; messages can be sent
    conversation_opened = Signal(str)  # the conversation now on screen
    dialog_opened = Signal(QDialog)  # a dialog the window opened (settings, export...)

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        tools: Iterable[Tool] = (),
        model_factory: Callable[[ConnectionConfig], ChatModel] | None = None,
        frame_ms: float = 33.0,
        timeouts: Timeouts | None = None,
        on_settings_saved: Callable[[Providers], None] | None = None,
        providers: Providers | None = None,
        history: Callable[[], Store] | None = None,
        credentials: Any = None,
        tool_settings: ToolSettings | None = None,
        on_tool_settings_saved: Callable[[ToolSettings], None] | None = None,
        mcp: Callable[[], McpSetup] | None = None,
    ) -> None:
        super().__init__()
        self._history = history
        self.session: Session | None = None  # opened in `start()`, after the first paint
        self._dialogs: list[QDialog] = []
        self.background = Background()
        self._closing = self._shutdown_done = False
        self._downloads: DownloadManager | None = None  # made when the Models page opens

        self.setObjectName("main-window")
        self.resize(1100, 740)
        self.theme = Theme.from_palette()
        self.sidebar = Sidebar(self)
        self.sidebar.setVisible(history is not None)
        self.pane = pane = ConversationPane(self)
        self.composer, self.send_button = pane.composer, pane.send_button
        self.title_label, self.provider_box = pane.title_label, pane.provider_box
        # (keyword, not positional: resolving QSplitter's overloads would build the
        # `Qt` namespace's ~90 enum types before the first paint, ~20 ms)
        self.splitter = QSplitter(parent=self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 850])
        self.setCentralWidget(self.splitter)
        self.status = ToolStatusBar(self)
        self.setStatusBar(self.status)

        self.settings = SettingsController(
            self.status,
            config,
            providers=providers,
            tools=list(tools),
            tool_settings=tool_settings,
            on_settings_saved=on_settings_saved,
            on_tool_settings_saved=on_tool_settings_saved,
            spawn=self.background.spawn,
            label=lambda: self.settings.provider_of(self.tenant_id).label(),
            model_factory=model_factory,
            timeouts=timeouts,
            mcp=mcp,
            credentials=credentials,
        )
        self.views = ConversationViews(
            pane.stack,
            theme=self.theme,
            frame_ms=frame_ms,
            assistant_label=lambda cid: f"Assistant · {self.settings.provider_of(cid).model}",
        )
        self.views.made.connect(self._made)
        self.views.shown.connect(self._shown)
        self.views.busy_changed.connect(self._view_busy)
        self.views.activity_changed.connect(self.status.refresh)
        self.views.run_finished.connect(self._run_finished)
        self.views.user_message_shown.connect(self._user_message_shown)
        self.conversations = ConversationListController(self.sidebar, self.status, self.show_dialog)
        self.conversations.open_requested.connect(self.open_conversation)
        self.conversations.deleted.connect(
            lambda cid: self.views.open(None) if cid == self.tenant_id else None
        )
        self.conversations.renamed.connect(self._update_labels)
        self.approvals = ApprovalController(
            self.views, self.composer, self.sidebar, self.status, lambda: self.orchestrator
        )
        self.runs = RunController(
            self.views,
            pane,
            self.status,
            self.conversations,
            self.approvals,
            lambda: self.session,
        )
        self.attach = AttachInput(
            self,
            self.composer,
            pane.tray,
            pane.attach_button,
            lambda text: self.views.say(text, error=True),
            settings_limits,
        )
        self.attach.watch(self.views, lambda: self.session)
        self.runs.attach = self.attach
        self.sidebar.activated.connect(self.open_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.provider_box.chosen.connect(self.choose_provider)
        self.settings.providers_changed.connect(self._providers_changed)
        self.settings.notice.connect(self.views.say)
        self.actions_by_name = add_actions(
            self,
            {
                "stop": self.runs.stop,
                "new": self.new_conversation,
                "switch": self.conversations.open_switcher,
                "rename": lambda: self.conversations.rename(self.tenant_id),
                "undo_delete": self.runs.undo,  # (a conversation or messages)
                "export_md": lambda: self.conversations.export(self.tenant_id, "md"),
                "export_json": lambda: self.conversations.export(self.tenant_id, "json"),
                "focus": self.runs.focus_composer,
                "attach": self.attach.choose_files,
                "regenerate": self.runs.regenerate,
                "copy_last": self.runs.copy_last_answer,
                "settings": self.open_settings,
                "import": self.open_import,
                "agent_state": self.show_agent_state,
                "models": self.open_models,
                "help": lambda: self.show_dialog(_shortcuts_dialog(self)),
                "quit": self.close,
            },
        )
        ImportDrop(self, self.open_import)  # an export dropped on the window: import it
        self.views.open(None)
        self._providers_changed()
        self.setTabOrder(self.composer, self.send_button)
        self.setTabOrder(self.send_button, self.transcript)
        self.composer.setFocus()

    @property
    def transcript(self) -> Transcript:
        return self.views.current.transcript

    @property
    def tenant_id(self) -> str:
        """The conversation on screen (its id is its orchestrator tenant)."""
        return self.views.current.conversation_id

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

    def _made(self, view: ConversationView) -> None:
        view.transcript.copied.connect(lambda _code: self.status.showMessage("Code copied", 2000))
        view.transcript.link_hovered.connect(self.status.show_link)

    def _shown(self, view: ConversationView) -> None:
        self.status.show_activity(view.activity)
        self._view_busy(view, view.busy)
        self.runs.editing = None
        self._update_labels()
        self.sidebar.select(view.conversation_id)

    def _view_busy(self, view: ConversationView, busy: bool) -> None:
        self.sidebar.model.set_live(view.conversation_id, busy)
        if view is self.views.current:
            self.pane.set_busy(busy)
            self.busy_changed.emit(busy)

    def _user_message_shown(self, view: ConversationView, event: UserMessage) -> None:
        """A run's user message reached its transcript (from the event stream)."""
        self.conversations.sent(view.conversation_id, event.content)
        if view is self.views.current and self.store is not None:
            self._update_labels()

    def _run_finished(self, view: ConversationView) -> None:
        self.conversations.finished(view.conversation_id)
        if view is self.views.current and self.store is not None:
            self._update_labels()

    def _update_labels(self) -> None:
        provider = self.settings.provider_of(self.tenant_id)
        self.setWindowTitle(f"desktop-agent — {provider.label()}")
        self.status.set_model(provider.label())
        self.pane.show_header(self.conversations.title_of(self.tenant_id), provider.id)

    def _providers_changed(self) -> None:
        settings, shown = self.settings, self.settings.provider_of(self.tenant_id).id
        self.provider_box.fill(settings.providers, settings.config.label(), shown)
        self._update_labels()

    # -- starting -----------------------------------------------------------------------

    @property
    def closed(self) -> asyncio.Event:
        """Set once the window has shut down (runs cancelled, connections closed)."""
        return self.background.closed

    async def start(self) -> None:
        """Open the session (model client, history: heavy imports) once the window
        is on screen."""
        import asyncio

        await asyncio.sleep(0)  # let the first paint happen
        self.sidebar.finish_setup()
        self.pane.finish_setup()
        store, problem = self.conversations.open_history(self._history)
        self.session = session = await self.settings.open_session(
            store, problem, lambda message: self.status.showMessage(message, 10000)
        )
        self.views.attach(session.store, session.orchestrator.dispatcher)
        self.conversations.attach(session.store, session.conversations)
        self.settings.attach(session)
        self._providers_changed()
        self.transcript.prepare()
        self.ready.emit()
        self.runs.send_pending()

    # -- actions ------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send a message in the conversation on screen."""
        self.runs.send(text)

    def stop(self) -> None:
        """Esc: deny a tool waiting for approval, else stop the answer."""
        self.runs.stop()

    def open_conversation(self, conversation_id: str) -> None:
        """Show a conversation (a run in the one left goes on, in the background)."""
        if conversation_id != self.tenant_id:
            self.views.open(conversation_id)
            self.conversation_opened.emit(conversation_id)
            self.composer.setFocus()

    def new_conversation(self) -> None:
        """Ctrl+N: a fresh conversation (a run elsewhere goes on unwatched)."""
        if self.transcript.entries or self.tenant_id in self.conversations.stored_ids():
            self.views.open(None)
        self.composer.setFocus()

    def choose_provider(self, provider_id: str) -> None:
        """The conversation on screen is answered by the saved provider `provider_id`."""
        self.settings.choose_provider(self.tenant_id, provider_id)
        self._update_labels()
        self.status.showMessage(
            f"This conversation now uses {self.provider_box.currentText()}", 3000
        )

    def open_settings(self) -> QDialog:
        """Ctrl+,: the Settings dialog (returned: it is open)."""
        return self.show_dialog(self.settings.open_dialog(self))

    def open_import(self, path: Path | None = None) -> QDialog | None:
        """Ctrl+Shift+O: import conversations from a file (`path`: at once, no picker)."""
        if self.store is None:
            self.status.showMessage("Conversations are not kept in this session", 5000)
            return None
        from .import_dialog import ImportDialog

        dialog = ImportDialog(self.store.file, self)
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

    def open_models(self) -> QDialog:
        """Ctrl+Shift+M: the Models page (returned: it is open)."""
        from .models_page import open_models_dialog

        return self.show_dialog(open_models_dialog(self, self.downloads, self.settings))

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

    async def shutdown(self) -> None:
        """Stop watching, stop the session (runs, MCP, models, history), then close."""
        self.settings.closing = True
        if self._downloads is not None:
            self._downloads.stop_all()  # paused: the partial files are kept
        self.background.cancel()
        try:
            await self.views.detach()
            if self.session is not None:
                await self.session.aclose()
        except Exception:
            _log.exception("error while shutting down")
        finally:
            self._shutdown_done = True
            for dialog in list(self._dialogs):  # open (window-modal) dialogs go too
                dialog.reject()
            self.close()
            self.closed.set()


def _shortcuts_dialog(parent: MainWindow) -> QDialog:
    from .settings_dialog import ShortcutsDialog

    return ShortcutsDialog(SHORTCUTS, parent)
