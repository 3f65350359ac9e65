"""The main window: conversations on the left, the one on screen on the right
(header, transcript or empty state, composer), a status bar; every action on the
keyboard.

The window is layout and wiring. What happens to conversations is the session's
(`app/session.py`); what the window decides lives in small controllers:
`ConversationViews` (the transcripts), `RunController` (send, stop, regenerate,
edit, versions), `ConversationListController` (delete and undo, export, rename),
`ApprovalController`, `SettingsController` (providers, tools, MCP) and `Chrome`
(header, sidebar toggle and search, empty state, banner, theme, zoom). Closing the
window stops the session (runs cancelled, connections closed) before the app quits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QSplitter

from ..app.providers import ConnectionConfig, Providers
from ..app.settings import ToolSettings
from .appearance import Appearance, Looks
from .approval_controller import ApprovalController
from .attach_input import AttachInput, settings_limits
from .background import Background
from .chrome import Chrome
from .context_meter import ContextMeter
from .conversation_list_controller import ConversationListController
from .conversation_pane import ConversationPane
from .conversation_views import ConversationViews
from .projects_controller import ProjectsController
from .run_controller import RunController
from .settings_controller import SettingsController
from .shortcuts import SHORTCUTS, add_actions
from .sidebar import Sidebar
from .status import ToolStatusBar
from .window_dialogs import WindowDialogs

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from ..app.mcp_setup import McpSetup
    from ..app.session import Session
    from ..engine.events import UserMessage
    from ..engine.model import ChatModel, Timeouts
    from ..engine.tools import Tool
    from ..storage import Store
    from .colors import Theme
    from .conversation import ConversationView
    from .downloads import DownloadManager

# asyncio, the engine, the session and the bridge are imported when first used,
# after the window is on screen: start-up paints first (see app.py).

__all__ = ["SHORTCUTS", "MainWindow"]

_log = logging.getLogger(__name__)


class MainWindow(WindowDialogs):
    """desktop-agent's window."""

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
        appearance: Appearance | None = None,
        save_appearance: Callable[[Appearance], None] | None = None,
    ) -> None:
        super().__init__()
        self._history = history
        self.session: Session | None = None  # opened in `start()`, after the first paint
        self._dialogs: list[QDialog] = []
        self.background = Background()
        self._closing = self._shutdown_done = False
        self._downloads: DownloadManager | None = None  # made when the Models page opens

        self.setObjectName("main-window")
        looks = appearance or Appearance()
        self.resize(looks.window_width, looks.window_height)  # (as it was closed)
        # the palette and the zoomed font first: the widgets are born with them
        self.looks = Looks(self, looks, save_appearance)
        self.looks.start()
        self._theme: Theme | None = None  # (made when first needed: after the first paint)
        self.sidebar = Sidebar(self)
        self.sidebar.setVisible(history is not None and not looks.sidebar_hidden)
        self.pane = pane = ConversationPane(self)
        self.composer, self.send_button = pane.composer, pane.send_button
        self.title_label, self.provider_box = pane.title_label, pane.provider_box
        # (keyword, not positional: resolving QSplitter's overloads would build the
        # `Qt` namespace's ~90 enum types before the first paint, ~20 ms)
        self.splitter = QSplitter(parent=self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(pane)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([looks.sidebar_width, looks.window_width - looks.sidebar_width])
        self.sidebar.setMaximumWidth(480)
        self.setCentralWidget(self.splitter)
        self.status = ToolStatusBar(self)
        self.setStatusBar(self.status)
        self.context_meter = ContextMeter(self.status)  # (issue 16: context and usage)
        self.status.insertPermanentWidget(1, self.context_meter)  # (before the model)

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
            theme=lambda: self.theme,
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
        self.projects = ProjectsController(self)
        self.sidebar.move_requested.connect(lambda cid: self.projects.move_menu(cid))
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
        self.chrome = Chrome(self, self.looks)
        self.settings.notice.connect(self.chrome.say)
        self.settings.banner.connect(self.chrome.banner)
        # (the QActions are made in `start()`, after the first paint, or when first asked for)
        self._actions: dict[str, QAction] | None = None
        self._action_slots: dict[str, Callable[[], Any]] = dict(
            {
                "stop": self.runs.stop,
                "new": self.new_conversation,
                "switch": self.chrome.focus_search,
                "search_messages": self.conversations.open_switcher,
                "toggle_sidebar": self.chrome.toggle_sidebar,
                "zoom_in": self.chrome.looks.zoom_in,
                "zoom_out": self.chrome.looks.zoom_out,
                "zoom_reset": self.chrome.looks.zoom_reset,
                "rename": lambda: self.conversations.rename(
                    self.sidebar.target() or self.tenant_id
                ),
                "undo_delete": self.runs.undo,  # (a conversation or messages)
                "export_md": lambda: self.conversations.export(self.tenant_id, "md"),
                "export_json": lambda: self.conversations.export(self.tenant_id, "json"),
                "focus": self.runs.focus_composer,
                "attach": self.attach.choose_files,
                "compact": self.compact_now,
                "context": self.conversation_context,
                "regenerate": self.runs.regenerate,
                "copy_last": self.runs.copy_last_answer,
                "settings": self.open_settings,
                "import": self.open_import,
                "agent_state": self.show_agent_state,
                "models": self.open_models,
                "move_project": lambda: self.projects.move_menu(),
                "help": self.show_shortcuts,
                "quit": self.close,
            },
        )
        # A new conversation: its empty state is painted first, its transcript built in
        # `start()` (or when something needs it sooner), see `ConversationViews.build`.
        self.views.defer_new()
        self._providers_changed()
        self.chrome.refresh_empty()
        self.chrome.order_tabs()
        self.composer.setFocus()

    def before_close(self) -> None:
        """Remember the window's size and the sidebar's width, or that it is hidden
        (not when there is no history to list: then it is hidden regardless)."""
        size = self.normalGeometry().size() if self.isMaximized() else self.size()
        if size.isEmpty():
            size = self.size()
        sidebar: int | None = self.splitter.sizes()[0]
        if self._history is None:  # (as it was)
            kept = self.looks.appearance
            sidebar = None if kept.sidebar_hidden else kept.sidebar_width
        elif not self.sidebar.isVisibleTo(self):
            sidebar = None
        self.looks.remember_layout(size.width(), size.height(), sidebar)

    @property
    def theme(self) -> Theme:
        """The transcript's colours, from the palette in force."""
        if self._theme is None:
            from .colors import Theme

            self._theme = Theme.from_palette()
        return self._theme

    @theme.setter
    def theme(self, theme: Theme) -> None:
        self._theme = theme

    @property
    def actions_by_name(self) -> dict[str, QAction]:
        """The window's actions (`shortcuts.ACTIONS`) by name, made when first needed."""
        if self._actions is None:
            self._actions = add_actions(self, self._action_slots)
        return self._actions

    def _made(self, view: ConversationView) -> None:
        view.transcript.copied.connect(lambda _code: self.status.showMessage("Code copied", 2000))
        view.transcript.link_hovered.connect(self.status.show_link)
        view.transcript.source_requested.connect(self.projects.open_source)

    def _shown(self, view: ConversationView) -> None:
        self.status.show_activity(view.activity)
        if self.store is not None and view.figures.context is None and view.figures.usage is None:
            view.figures.load_stored(self.store, view.conversation_id)  # (from the history)
        self.context_meter.show_figures(view.figures)
        self._view_busy(view, view.busy)
        self.runs.editing = None
        self._update_labels()
        self.sidebar.select(view.conversation_id)
        self.chrome.refresh_empty()

    def _view_busy(self, view: ConversationView, busy: bool) -> None:
        self.sidebar.model.set_live(view.conversation_id, busy)
        if view is self.views.current:
            self.pane.set_busy(busy)
            self.busy_changed.emit(busy)

    def _user_message_shown(self, view: ConversationView, event: UserMessage) -> None:
        """A run's user message reached its transcript (from the event stream)."""
        self.conversations.sent(view.conversation_id, event.content)
        if view is self.views.current:
            self.chrome.refresh_empty()
            if self.store is not None:
                self._update_labels()

    def _run_finished(self, view: ConversationView) -> None:
        self.conversations.finished(view.conversation_id)
        self.projects.refresh()
        if view is self.views.current:
            self.chrome.refresh_empty()
            if self.store is not None:
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

    async def start(self) -> None:
        """Open the session (model client, history: heavy imports) once the window
        is on screen."""
        import asyncio

        self.actions_by_name  # noqa: B018 (made now: the keyboard shortcuts work from here)
        await asyncio.sleep(0)  # let the first paint happen
        self.attach.listen()  # drops: files to attach, or (first) an export to import
        from .import_drop import ImportDrop

        ImportDrop(self, self.open_import)
        self.sidebar.finish_setup()
        self.pane.finish_setup()
        self.chrome.finish_setup()
        self.views.build()  # the first transcript, after the first paint
        self.chrome.order_tabs()
        store, problem = self.conversations.open_history(self._history)
        self.session = session = await self.settings.open_session(
            store, problem, lambda message: self.status.showMessage(message, 10000)
        )
        self.views.attach(session.store, session.orchestrator.dispatcher)
        self.conversations.attach(session.store, session.conversations)
        self.projects.attach()
        self.settings.attach(session)
        self._providers_changed()
        self.transcript.prepare()
        self.chrome.banner("")  # (connecting: done)
        self.chrome.refresh_empty()
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
