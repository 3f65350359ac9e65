"""What the window's settings are and what changing them does: the saved providers
(Settings → Save: models rebuilt for the next runs), the tool settings (built-ins,
tools always allowed), the MCP servers, the embedded model's progress.

Before the session exists (the first paint) the controller holds the settings
read at start; from `attach()` on, the session applies every change and the
controller only saves it (the callbacks given) and reports it in the window."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from ..app.providers import ConnectionConfig, Providers
from ..app.settings import ToolSettings
from .status import ToolStatusBar

if TYPE_CHECKING:
    from ..app.mcp_setup import McpSetup
    from ..app.session import Session
    from ..engine.model import ChatModel, Timeouts
    from ..engine.tools import Tool
    from ..storage import Store

__all__ = ["SettingsController"]


class SettingsController(QObject):
    """Args:
    label: the label of the provider of the conversation on screen.
    model_factory: makes a provider's model (default: `model_from_config`).
    mcp: makes the MCP servers' setup (None: no MCP).
    """

    providers_changed = Signal()  # the saved providers (or the default one) changed
    mcp_changed = Signal()  # an MCP server connected, failed or stopped
    notice = Signal(str, bool)  # something to say in the transcript; is it an error
    banner = Signal(str)  # a transient notice (loading the model); "" when done

    def __init__(
        self,
        status: ToolStatusBar,
        config: ConnectionConfig,
        *,
        providers: Providers | None,
        tools: list[Tool],
        tool_settings: ToolSettings | None,
        on_settings_saved: Callable[[Providers], None] | None,
        on_tool_settings_saved: Callable[[ToolSettings], None] | None,
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        label: Callable[[], str],
        model_factory: Callable[[ConnectionConfig], ChatModel] | None = None,
        timeouts: Timeouts | None = None,
        mcp: Callable[[], McpSetup] | None = None,
        credentials: Any = None,
    ) -> None:
        super().__init__(status)
        self._status = status
        self.config = config
        #: Saved providers; `config` is the default one (as resolved at start).
        self.providers = providers or Providers([config], config.id)
        self.providers.replace(config)
        self.tools = tools
        self.tool_settings = tool_settings or ToolSettings()
        self._on_settings_saved = on_settings_saved
        self._on_tool_settings_saved = on_tool_settings_saved
        self._spawn = spawn
        self._label = label
        self._model_factory = model_factory
        self._timeouts = timeouts
        self._mcp = mcp
        self.credentials = credentials  # (read at start when not given)
        self.discovered: list[Any] = []  # servers found on this computer at start
        self._chosen: dict[str, str] = {}  # conversation -> provider, before the session
        self._builtins_from_settings = False
        self.session: Session | None = None
        self.closing = False

    async def open_session(
        self, store: Store | None, problem: str, on_history_error: Callable[[str], None]
    ) -> Session:
        """The window's session, started: the default provider resolved (its key read,
        "auto" decided: `providers_changed`), what start-up found said (`notice`:
        `problem` opening the history first), then the model and the orchestrator.
        An "always" answered on a card is saved with the tool settings."""
        import asyncio

        from ..app.providers import credentials, model_from_config
        from ..app.session import Session
        from ..engine.approval import Approvals

        if self.credentials is None:
            self.credentials = await asyncio.to_thread(credentials)
        session = Session(
            self.config,
            providers=self.providers,
            tools=self.tools,
            approvals=Approvals(
                self.tool_settings.always_allowed, on_change=self.always_allowed_changed
            ),
            store=store,
            mcp=self._mcp() if self._mcp is not None else None,
            model_factory=self._model_factory
            or (lambda config: model_from_config(config, self.engine_state_changed)),
            timeouts=self._timeouts,
            credentials=self.credentials,
            on_history_error=on_history_error,
        )
        self.config = await session.resolve()
        self.discovered = session.discovered
        self.providers_changed.emit()
        if problem:
            self.notice.emit(problem, True)
        for notice in self.welcome():
            self.notice.emit(notice, False)
        await session.start(start_mcp=False)
        return session

    def attach(self, session: Session) -> None:
        """The session has started: it applies changes from now on."""
        self.session = session
        for conversation_id, provider_id in self._chosen.items():
            session.choose_provider(conversation_id, provider_id)
        self.config, self.providers = session.config, session.providers
        if session.mcp is not None:
            session.mcp.on_change = self._mcp_changed
            self._spawn(self.start_mcp())
        self._spawn(self.load_model())

    def welcome(self) -> list[str]:
        """What start-up found: servers on this computer, or how to connect."""
        notices = []
        if self.discovered:
            found = "; ".join(server.label() for server in self.discovered)
            notices.append(f"Found on this computer: {found}. Pick one in Settings (Ctrl+,).")
        if self.config.kind == "none":
            notices.append(
                "No model is set up yet. Press Ctrl+, and choose a preset: OpenAI (needs an API "
                "key), Ollama (http://127.0.0.1:11434/v1), LM Studio (http://127.0.0.1:1234/v1), "
                "a llama.cpp server (http://127.0.0.1:8080/v1), vLLM, OpenRouter, or any "
                "OpenAI-compatible URL. Or install the model that runs on this computer: "
                "pip install 'desktop-agent[local]'."
            )
        return notices

    # -- providers --------------------------------------------------------------------

    def provider_of(self, conversation_id: str) -> ConnectionConfig:
        """The provider that answers this conversation (its own, else the default)."""
        if self.session is not None:
            return self.session.provider_of(conversation_id)
        chosen = self._chosen.get(conversation_id)
        return (self.providers.get(chosen) if chosen else None) or self.config

    def choose_provider(self, conversation_id: str, provider_id: str) -> None:
        if self.session is not None:
            self.session.choose_provider(conversation_id, provider_id)
        else:
            self._chosen[conversation_id] = provider_id

    def open_dialog(self, parent: Any) -> QDialog:
        from .settings_dialog import SettingsDialog

        dialog = SettingsDialog(
            self.providers,
            parent,
            discovered=self.discovered,
            credentials=self.credentials,
            tool_settings=self.tool_settings,
            mcp=self.session.mcp if self.session is not None else None,
            spawn=self._spawn,
        )
        self.mcp_changed.connect(dialog.refresh_mcp)
        dialog.saved.connect(self.apply_providers)
        dialog.tools_saved.connect(self.set_tool_settings)
        return dialog

    def apply_providers(self, providers: Providers) -> None:
        """New provider settings: models are rebuilt for the next runs."""
        self.providers, self.config = providers, providers.default
        if self.session is not None and getattr(self.session, "orchestrator", None):
            self.session.set_providers(providers)
            self._spawn(self.load_model())
        self.providers_changed.emit()
        if self._on_settings_saved is not None:
            self._on_settings_saved(providers)
        self._status.showMessage("Settings saved", 2000)

    async def load_model(self) -> None:
        """The embedded model: loaded now, not at the first message."""
        from ..engine.model import ModelError

        assert self.session is not None
        model = self.session.orchestrator.model
        try:
            await self.session.load_model(model)
        except ModelError as exc:
            # (a model replaced while it loaded, e.g. by "Use this model", is no news)
            if not self.closing and self.session.orchestrator.model is model:
                self.notice.emit(str(exc), True)

    def engine_state_changed(self, state: str, message: str) -> None:
        """The embedded engine's progress: loading, ready, restarting, failed, stopped."""
        if self.closing:
            return
        label = self._label()
        if state == "loading":
            self._status.set_model(f"{label} (loading…)")
            self._status.showMessage(message)
            self.banner.emit(message)
        elif state == "ready":
            self._status.set_model(label)
            self._status.clearMessage()
            self.banner.emit("")
        elif state in ("restarting", "failed"):
            self._status.set_model(f"{label} ({state})")
            self.banner.emit("")
            self.notice.emit(message, False)

    # -- tools --------------------------------------------------------------------------

    def load_tools(self) -> None:
        """Use the built-in tools the tool settings turn on; from then on, changed
        tool settings rebuild them."""
        from ..tools.catalog import build_tools

        self._builtins_from_settings = True
        self.tools, problems = build_tools(self.tool_settings)
        if self.session is not None:
            self.session.set_builtins(self.tools)
        self._say(problems)

    def always_allowed_changed(self, names: frozenset[str]) -> None:
        """An "always" answered on a card: saved with the tool settings."""
        self.set_tool_settings(replace(self.tool_settings, always_allowed=names), rebuild=False)

    def set_tool_settings(self, settings: ToolSettings, *, rebuild: bool = True) -> None:
        """New tool settings (Settings → Tools): the tools of the next runs, and the
        tools that run without asking."""
        self.tool_settings = settings
        rebuild = rebuild and self._builtins_from_settings  # given tools are kept
        if self.session is not None:
            self._say(self.session.apply_tool_settings(settings, rebuild=rebuild))
            self.tools = self.session.tools
        elif rebuild:
            self.load_tools()
        if self._on_tool_settings_saved is not None:
            self._on_tool_settings_saved(settings)

    async def start_mcp(self) -> None:
        assert self.session is not None and self.session.mcp is not None
        await self.session.start_mcp()
        for problem in self.session.mcp.problems:
            self._status.showMessage(f"MCP: {problem}", 10000)

    def _mcp_changed(self, server: Any) -> None:
        if self.closing or self.session is None:
            return
        self.session.apply_tools()
        if server.status == "failed":
            self._status.showMessage(f"MCP server {server.name} {server.describe()}", 10000)
        self.mcp_changed.emit()

    def _say(self, problems: list[str]) -> None:
        for problem in problems:
            self._status.showMessage(problem, 8000)
