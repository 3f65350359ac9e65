"""The main window: conversations on the left, the one on screen on the right
(transcript, composer), a status bar; every action on the keyboard.

The window owns no run: it submits messages to the `Orchestrator` and each
`ConversationView` renders the events of its conversation. The history store is
written by the `Recorder` (a subscriber of the event stream), never by the window;
the window only reads it (sidebar, pages, search) and moves a conversation's
current version (edit, regenerate, ◀ ▶). Closing the window cancels the runs,
closes the HTTP connections, and only then lets the app quit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..app.providers import ConnectionConfig, Providers, model_from_config, resolve_auto
from ..app.settings import ToolSettings
from .composer import Composer
from .conversation import ConversationView
from .history_actions import HistoryActions, _new_conversation_id
from .provider_actions import ProviderActions
from .sidebar import Row, Sidebar
from .status import ToolStatusBar
from .theme import Theme
from .tool_actions import ToolActions

if TYPE_CHECKING:
    import asyncio

    from ..app.conversations import ConversationActions
    from ..app.mcp_setup import McpSetup
    from ..app.session import Session
    from ..engine.events import UserMessage
    from ..engine.model import ChatModel, Timeouts
    from ..engine.orchestrator import Orchestrator
    from ..engine.tools import Tool
    from ..storage import Recorder, Store
    from .bridge import EventBridge
    from .transcript import Transcript

# asyncio, the engine, the store and the bridge are imported when first used, after
# the window is on screen: start-up paints first (see app.py). Statuses are the
# AgentStatus values, as strings.

__all__ = ["SHORTCUTS", "MainWindow"]

_log = logging.getLogger(__name__)

#: (keys, what they do): the F1 list and the actions below come from here.
SHORTCUTS: list[tuple[str, str]] = [
    ("Enter", "Send the message"),
    ("Shift+Enter", "New line in the message"),
    ("Esc", "Stop the answer"),
    ("Up (empty message)", "Edit your last message"),
    ("Ctrl+R", "Regenerate the last answer (or retry after an error)"),
    ("Ctrl+Shift+C", "Copy the last answer"),
    ("Ctrl+N", "New conversation"),
    ("Ctrl+K", "Go to a conversation (search titles and messages)"),
    ("F2", "Rename the conversation"),
    ("Delete (in the list)", "Delete the conversation (Ctrl+Z undoes)"),
    ("Ctrl+E / Ctrl+Shift+E", "Export the conversation as Markdown / JSON"),
    ("Ctrl+L", "Focus the message box"),
    ("Ctrl+,", "Settings"),
    ("F1, Ctrl+/", "This list"),
    ("Ctrl+Q", "Quit"),
]

ModelFactory = Callable[[ConnectionConfig], "ChatModel"]
HistoryFactory = Callable[[], "Store"]


class MainWindow(HistoryActions, ToolActions, ProviderActions, QMainWindow):
    """desktop-agent's window."""

    busy_changed = Signal(bool)  # True while the conversation on screen has a run
    ready = Signal()  # the model client exists; messages can be sent
    conversation_opened = Signal(str)  # the conversation now on screen
    mcp_changed = Signal()  # an MCP server connected, failed or stopped

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        tools: Iterable[Tool] = (),
        model_factory: ModelFactory | None = None,
        frame_ms: float = 33.0,
        timeouts: Timeouts | None = None,
        on_settings_saved: Callable[[Providers], None] | None = None,
        providers: Providers | None = None,
        history: HistoryFactory | None = None,
        credentials: Any = None,
        tool_settings: ToolSettings | None = None,
        on_tool_settings_saved: Callable[[ToolSettings], None] | None = None,
        mcp: Callable[[], McpSetup] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        #: Saved providers; `config` is the default one (as resolved at start).
        self.providers = providers or Providers([config], config.id)
        self.providers.replace(config)
        #: The tools runs may use (set before `start()`).
        self.tools: list[Tool] = list(tools)
        self._builtins_from_settings = False
        self._model_factory: ModelFactory = model_factory or (
            lambda config: model_from_config(config, self.engine_state_changed)
        )
        #: Servers found on this computer at start (kind "auto").
        self.discovered: list[Any] = []
        self._frame_ms = frame_ms
        self._timeouts = timeouts
        self._on_settings_saved = on_settings_saved
        self._history_factory = history
        self.tool_settings = tool_settings or ToolSettings()
        self._on_tool_settings_saved = on_tool_settings_saved
        self._mcp_factory = mcp
        #: The MCP servers (made in `start()`, after the first paint).
        self.mcp: McpSetup | None = None
        self.credentials = credentials
        self.store: Store | None = None
        self.recorder: Recorder | None = None
        self.orchestrator: Orchestrator | None = None
        #: The session (`start()`) and its conversation operations.
        self.session: Session | None = None
        self.conversation_actions: ConversationActions | None = None
        self._models: dict[str, Any] = {}  # provider id -> its ChatModel
        self._editing: str | None = None  # key of the user message being edited
        self._closing = False
        self._shutdown_done = False
        self._pending: list[str] = []  # messages sent before the client was ready
        self._closed: asyncio.Event | None = None
        self._dialogs: list[QWidget] = []
        self._tasks: set[asyncio.Future[Any]] = set()
        self._deleted: list[str] = []  # conversations deleted, newest last (Ctrl+Z)
        #: conversation id -> the provider it uses (None: the default), as looked up
        self.current_provider_ids: dict[str, str | None] = {}

        self.setObjectName("main-window")
        self.resize(1100, 740)
        self.theme = Theme.from_palette()
        self.sidebar = Sidebar(self)
        right = QWidget(self)
        layout = QVBoxLayout(right)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        header = QHBoxLayout()
        self.title_label = QLabel("New conversation", right)
        self.title_label.setAccessibleName("Conversation title")
        self.provider_box = QComboBox(right)
        self.provider_box.setAccessibleName("Provider for this conversation")
        self.provider_box.setToolTip("Where this conversation's answers come from")
        header.addWidget(self.title_label, 1)
        header.addWidget(self.provider_box)
        layout.addLayout(header)
        self.stack = QStackedWidget(right)
        layout.addWidget(self.stack, 1)
        row = QHBoxLayout()
        self.composer = Composer(right)
        self.send_button = QPushButton("Send", right)
        self.send_button.setAccessibleName("Send or stop")
        self.send_button.setToolTip("Send (Enter) · Stop (Esc)")
        self.send_button.setMinimumHeight(40)
        self.send_button.clicked.connect(self._send_or_stop)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        # (keyword, not positional: resolving QSplitter's overloads would build the
        # `Qt` namespace's ~90 enum types before the first paint, ~20 ms)
        self.splitter = QSplitter(parent=self)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([250, 850])
        self.setCentralWidget(self.splitter)
        self.status = ToolStatusBar(self)
        self.setStatusBar(self.status)
        self.views: dict[str, ConversationView] = {}
        self.current: ConversationView = self._make_view(_new_conversation_id())
        self._show_view(self.current)
        self.sidebar.setVisible(history is not None)

        self.composer.submitted.connect(self.send)
        self.composer.edit_last_requested.connect(self.edit_last)
        self.composer.confirm_requested.connect(lambda: self.answer_approval(None, "allow"))
        self.sidebar.activated.connect(self.open_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.delete_requested.connect(self.delete_conversation)
        self.sidebar.export_requested.connect(self.export_conversation)
        self.sidebar.model.renamed.connect(self._renamed)
        self._fill_providers()
        self.provider_box.activated.connect(self._provider_chosen)
        self._make_actions()
        self._update_labels()
        self.setTabOrder(self.composer, self.send_button)
        self.setTabOrder(self.send_button, self.transcript)
        self.composer.setFocus()

    # -- views ------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        """The transcript on screen."""
        return self.current.transcript

    @property
    def tenant_id(self) -> str:
        """The conversation on screen (its id is its orchestrator tenant)."""
        return self.current.conversation_id

    @property
    def busy(self) -> bool:
        return self.current.busy

    @property
    def bridge(self) -> EventBridge | None:
        return self.current.bridge

    def _make_view(self, conversation_id: str) -> ConversationView:
        view = ConversationView(
            conversation_id,
            store=self.store,
            theme=self.theme,
            parent=self.stack,
            frame_ms=self._frame_ms,
            assistant_label=lambda: f"Assistant · {self._provider_of(conversation_id).model}",
        )
        if self.orchestrator is not None:
            view.attach(self.orchestrator.dispatcher)
        self.stack.addWidget(view.transcript)
        view.busy_changed.connect(lambda busy, v=view: self._view_busy(v, busy))
        view.approval_requested.connect(lambda _request, v=view: self._approval_elsewhere(v))
        view.activity_changed.connect(lambda v=view: self._view_activity(v))
        view.run_finished.connect(lambda _done, v=view: self._run_finished(v))
        view.user_message_shown.connect(lambda event, v=view: self._user_message_shown(v, event))
        t = view.transcript
        t.retry_requested.connect(self.regenerate)
        t.copied.connect(lambda _code: self.status.showMessage("Code copied", 2000))
        t.version_requested.connect(self.switch_version)
        t.edit_requested.connect(self.edit_message)
        t.approval_answered.connect(self.answer_approval)
        t.link_hovered.connect(self.status.show_link)
        self.views[conversation_id] = view
        return view

    def _show_view(self, view: ConversationView) -> None:
        previous = self.current
        self.current = view
        self.stack.setCurrentWidget(view.transcript)
        self.status.show_activity(view.activity)
        self._apply_busy(view.busy)
        self._editing = None
        if previous is not view and not previous.busy:
            self._drop_view(previous)
        self._update_labels()
        self.sidebar.select(view.conversation_id)

    def _drop_view(self, view: ConversationView) -> None:
        if self.views.get(view.conversation_id) is view and view is not self.current:
            del self.views[view.conversation_id]
            self.stack.removeWidget(view.transcript)
            view.close()

    def _approval_elsewhere(self, view: ConversationView) -> None:
        """A conversation in the background waits for an approval: say so."""
        self.sidebar.model.set_live(view.conversation_id, True, waiting=True)
        if view is not self.current:
            row = self.sidebar.model.row_of(view.conversation_id)
            title = self.sidebar.model.rows[row].title if row >= 0 else "Another conversation"
            self.status.showMessage(
                f"“{title}” waits for your approval of a tool (⚠ in the list)", 15000
            )

    def _view_busy(self, view: ConversationView, busy: bool) -> None:
        self.sidebar.model.set_live(view.conversation_id, busy)
        if view is self.current:
            self._apply_busy(busy)
        elif not busy:  # a conversation in the background finished: rebuilt when opened
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self, lambda: self._drop_view(view))

    def _view_activity(self, view: ConversationView) -> None:
        if view is self.current:
            self.status.refresh()

    def _apply_busy(self, busy: bool) -> None:
        self.composer.busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.busy_changed.emit(busy)

    # -- set-up -----------------------------------------------------------------------

    def _make_actions(self) -> None:
        def act(name: str, keys: list[str], slot: Callable[[], Any]) -> QAction:
            action = QAction(name, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.triggered.connect(lambda _checked=False: slot())
            self.addAction(action)
            return action

        self.actions_by_name = {
            "stop": act("Stop", ["Esc"], self.stop),
            "new": act("New conversation", ["Ctrl+N"], self.new_conversation),
            "switch": act("Go to conversation", ["Ctrl+K"], self.open_switcher),
            "rename": act("Rename conversation", ["F2"], self.rename_conversation),
            "undo_delete": act("Undo delete", ["Ctrl+Z"], self.undo_delete),
            "export_md": act("Export as Markdown", ["Ctrl+E"], lambda: self.export_conversation()),
            "export_json": act(
                "Export as JSON", ["Ctrl+Shift+E"], lambda: self.export_conversation(fmt="json")
            ),
            "focus": act("Focus message", ["Ctrl+L"], self.focus_composer),
            "regenerate": act("Regenerate", ["Ctrl+R"], self.regenerate),
            "copy_last": act("Copy last answer", ["Ctrl+Shift+C"], self.copy_last_answer),
            "settings": act("Settings", ["Ctrl+,"], self.open_settings),
            "help": act("Keyboard shortcuts", ["F1", "Ctrl+/"], self.show_shortcuts),
            "quit": act("Quit", ["Ctrl+Q"], self.close),
        }

    def _update_labels(self) -> None:
        provider = self._provider_of(self.tenant_id)
        label = provider.label()
        self.setWindowTitle(f"desktop-agent — {label}")
        self.status.set_model(label)
        title = ""
        if self.store is not None:
            conv = self.store.conversation(self.tenant_id)
            title = conv.title if conv is not None else ""
            if not title:  # not recorded yet: the row the sidebar shows
                row = self.sidebar.model.row_of(self.tenant_id)
                title = self.sidebar.model.rows[row].title if row >= 0 else ""
        self.title_label.setText(title or "New conversation")
        self._select_provider_box()

    @property
    def closed(self) -> asyncio.Event:
        """Set once the window has shut down (runs cancelled, connections closed)."""
        if self._closed is None:
            import asyncio

            self._closed = asyncio.Event()
        return self._closed

    async def start(self) -> None:
        """Create the model client and open the history (heavy imports) once the
        window is on screen."""
        import asyncio

        from ..app.providers import credentials, with_stored_key
        from ..engine.approval import Approvals

        await asyncio.sleep(0)  # let the first paint happen
        self.sidebar.finish_setup()
        font = self.title_label.font()  # (QFont's enums: after the first paint)
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title_label.setFont(font)
        from ..app.conversations import ConversationActions
        from ..app.session import Session

        if self.credentials is None:
            self.credentials = await asyncio.to_thread(credentials)
        self.config = with_stored_key(self.config, self.credentials)
        if self.config.kind == "auto":
            self.config, self.discovered = await resolve_auto(self.config)
            self._update_labels()
        self.providers.replace(self.config)
        self._open_history()
        self._welcome()
        model = await asyncio.to_thread(self._model_factory, self.config)
        self._models[self.config.id] = model
        # The window's session: the same wiring as `chat` and `serve` (orchestrator,
        # approvals saved to the settings, recorder); MCP is started after the paint.
        self.session = Session(
            self.config,
            providers=self.providers,
            tools=self.tools,
            approvals=Approvals(
                self.tool_settings.always_allowed, on_change=self._always_allowed_changed
            ),
            store=self.store,
            model_factory=self._model_factory,
            timeouts=self._timeouts,
            credentials=self.credentials,
            on_history_error=self._history_error,
        )
        await self.session.start(start_mcp=False, model=model)
        self.orchestrator = self.session.orchestrator
        self.recorder = self.session.recorder
        self.conversation_actions = ConversationActions(
            self.orchestrator,
            self.store,
            provider_of=self._provider_of,
            model_for=self._model_for,
            default_provider=lambda: self.config.id,
        )
        for view in self.views.values():
            view.store = self.store
            view.attach(self.orchestrator.dispatcher)
        self._fill_providers()
        self._update_labels()
        self.transcript.prepare()
        engine = getattr(model, "engine", None)
        if engine is not None:  # the embedded model: load it now, not at the first message
            self._spawn(self._preload(engine))
        if self._mcp_factory is not None:
            self.mcp = self._mcp_factory()
            self.mcp.on_change = self._mcp_changed
            self._spawn(self._start_mcp())
        self.ready.emit()
        pending, self._pending = self._pending, []
        for text in pending:
            self.send(text)

    def _welcome(self) -> None:
        """What start-up found: servers on this computer, or how to connect."""
        if self.discovered:
            found = "; ".join(server.label() for server in self.discovered)
            self.transcript.add_notice(
                f"Found on this computer: {found}. Pick one in Settings (Ctrl+,)."
            )
        if self.config.kind == "none":
            self.transcript.add_notice(
                "No model is set up yet. Press Ctrl+, and choose a preset: OpenAI (needs an API "
                "key), Ollama (http://127.0.0.1:11434/v1), LM Studio (http://127.0.0.1:1234/v1), "
                "a llama.cpp server (http://127.0.0.1:8080/v1), vLLM, OpenRouter, or any "
                "OpenAI-compatible URL. Or install the model that runs on this computer: "
                "pip install 'desktop-agent[local]'."
            )

    async def _preload(self, engine: Any) -> None:
        from ..engine.model import ModelError

        try:
            await engine.ensure_running()
        except ModelError as exc:
            if not self._closing:
                self.transcript.add_error(str(exc), retry=False)

    # -- sending ----------------------------------------------------------------------

    def _prepare_tenant(self, conversation_id: str) -> None:
        """Before a run: the stored conversation exists, and the orchestrator has its
        history and the provider it uses."""
        assert self.conversation_actions is not None
        self.conversation_actions.prepare(conversation_id)

    def _submit(self, text: str | None) -> str:
        """Start a run in the conversation on screen; returns its run id."""
        assert self.orchestrator is not None
        view = self.current
        conversation_id = view.conversation_id
        assert self.conversation_actions is not None
        view.begin_run()
        handle = self.conversation_actions.send(conversation_id, text)
        if text is None:  # (a message is shown, and listed, when its event arrives)
            self._list_conversation(conversation_id, "")
        return handle.run_id

    def _list_conversation(self, conversation_id: str, message: str) -> None:
        """Put the conversation at the top of the list, live (titled by `message`
        until it has a title of its own)."""
        if self.store is not None:
            conv = self.store.conversation(conversation_id)
            title = (conv.title if conv else "") or message
            self.sidebar.model.upsert(Row(conversation_id, title, _now(), live=True))
            self.sidebar.select(conversation_id)

    def _user_message_shown(self, view: ConversationView, event: UserMessage) -> None:
        """A run's user message reached its transcript (from the event stream)."""
        self._list_conversation(view.conversation_id, event.content)
        if view is self.current and self.store is not None:
            self._update_labels()

    def send(self, text: str) -> None:
        """Send a message in the conversation on screen; it shows (in the transcript
        and the list) when the run publishes it, on the next turn of the loop."""
        text = text.strip()
        if not text or self.busy:
            return
        if self.orchestrator is None:
            self._pending.append(text)
            self.transcript.add_notice("Connecting… your message will be sent in a moment.")
            return
        if self._editing is not None:
            self._branch_before(self._editing)
            self._editing = None
        self._submit(text)

    def _send_or_stop(self) -> None:
        if self.busy:
            self.cancel_run()
        else:
            self.composer.submit()

    def cancel_run(self) -> None:
        """The Stop button: stop the answer (a tool waiting for approval won't run)."""
        if self.orchestrator is not None:
            self.orchestrator.cancel(self.tenant_id)

    def stop(self) -> None:
        """Esc: deny a tool waiting for approval; else stop the answer (or leave
        editing when nothing runs)."""
        if self.transcript.pending_approvals():
            self.answer_approval(None, "deny")
            return
        if self.busy and self.orchestrator is not None:
            self.orchestrator.cancel(self.tenant_id)
        elif self._editing is not None:
            self._editing = None
            self.composer.clear()

    def _branch_before(self, key: str) -> None:
        """Editing the user message `key`: the next message becomes its new version
        (a sibling), so the history continues from the message before it."""
        assert self.orchestrator is not None
        conversation_id = self.tenant_id
        assert self.conversation_actions is not None
        entry = self.transcript.entry(key)
        if not self.conversation_actions.branch_before(conversation_id, key):
            # no history store: cut the orchestrator's history at that message
            history = list(self.orchestrator.messages(conversation_id))
            users = [i for i, m in enumerate(history) if m.get("role") == "user"]
            shown = [e for e in self.transcript.entries if e.kind == "user"]
            if entry in shown and len(users) == len(shown):
                cut = users[shown.index(entry)]
                self.orchestrator.set_messages(conversation_id, history[:cut])
        if entry is not None:
            self.transcript.truncate(entry)

    def regenerate(self) -> None:
        """Ctrl+R / Retry: answer the last user message again (a new version)."""
        if self.busy or self.orchestrator is None:
            return
        conversation_id = self.tenant_id
        entry = self.transcript.last("user")
        assert self.conversation_actions is not None
        if entry is None or not self.conversation_actions.rewind_to(conversation_id, entry.key):
            history = list(self.orchestrator.messages(conversation_id))
            last = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=None)
            if last is None:
                return
            self.orchestrator.set_messages(conversation_id, history[: last + 1])
        if entry is not None:
            index = self.transcript.entries.index(entry)
            if index + 1 < len(self.transcript.entries):
                self.transcript.truncate(self.transcript.entries[index + 1])
        self._submit(None)

    def edit_last(self) -> None:
        """Up in an empty composer: bring back the last message to edit and resend."""
        entry = self.transcript.last("user")
        if entry is not None:
            self.edit_message(entry.key)

    def edit_message(self, key: str) -> None:
        """Edit a sent message: Enter sends the new version, Esc cancels."""
        if self.busy:
            return
        entry = self.transcript.entry(key)
        if entry is None or entry.kind != "user":
            return
        self._editing = key
        self.composer.setPlainText(entry.source)
        self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        self.composer.setFocus()
        self.status.showMessage(
            "Editing your message: Enter sends a new version, Esc cancels", 4000
        )

    # -- small actions ----------------------------------------------------------------

    def focus_composer(self) -> None:
        from PySide6.QtCore import Qt

        self.composer.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def copy_last_answer(self) -> None:
        answer = self.transcript.last_answer()
        if answer:
            QGuiApplication.clipboard().setText(answer)
            self.status.showMessage("Last answer copied", 2000)

    def show_shortcuts(self) -> None:
        from .settings_dialog import ShortcutsDialog

        dialog = ShortcutsDialog(SHORTCUTS, self)
        self._keep(dialog)
        dialog.open()

    def _keep(self, dialog: QWidget) -> None:
        """Hold a non-modal dialog until it closes."""
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._dialogs.remove(dialog))  # type: ignore[attr-defined]

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine on the loop, keeping it referenced until it ends."""
        import asyncio

        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- closing ----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shutdown_done:
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self._spawn(self.shutdown())

    async def shutdown(self) -> None:
        """Cancel runs, close connections and the history, then close the window."""
        import asyncio

        from ..engine.model import close_model

        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        try:
            for view in list(self.views.values()):
                await view.detach()
            if self.orchestrator is not None:
                await self.orchestrator.aclose()
            for model in self._models.values():
                await close_model(model)
            if self.mcp is not None:
                await self.mcp.aclose()
            if self.recorder is not None:
                self.recorder.stop()
            if self.store is not None:
                self.store.close()
        except Exception:
            _log.exception("error while shutting down")
        finally:
            self._shutdown_done = True
            self.close()
            self.closed.set()


def _now() -> float:
    import time

    return time.time()
