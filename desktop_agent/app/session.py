"""A session: what every surface (the window, `chat`, `serve`) runs on.

`Session.open(...)` reads the settings once: the connection (flags, environment,
saved providers), the built-in tools the tool settings turn on and the tools
always allowed (an "always" answered here is saved to the settings file, merged
with what other processes saved), the MCP servers of mcp.json (with the same
confirmation rules as the window), and the history (`history.db`, unless
`save=False` or the setting `"save_history": false`).

`await session.start()` finds the model ("auto": a server the user picked, else the
embedded model), reads its key from the keyring, creates the orchestrator, starts
recording into the history and starts the MCP servers. `await session.aclose()`
stops it all. The surface only presents: `session.conversations` has the
operations (send, edit, regenerate, versions, rename, delete, export).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..engine import Approvals, Tool
from ..tools.catalog import build_tools
from .conversations import ConversationActions
from .paths import data_dir, history_path
from .providers import ConnectionConfig, Providers
from .settings import ToolSettings, load_settings, update_settings

if TYPE_CHECKING:
    from ..engine.model import ChatModel, Timeouts
    from ..engine.orchestrator import Orchestrator
    from ..storage import Recorder, Store
    from .mcp_setup import McpSetup
    from .projects import Projects

__all__ = ["Session", "configured_tools", "history_enabled", "persisted_approvals"]

_log = logging.getLogger(__name__)


def history_enabled(saved: dict[str, Any], save: bool | None = None) -> bool:
    """Whether conversations are kept: `save` (a flag) wins, else the setting
    "save_history" (on unless it is false)."""
    return save if save is not None else saved.get("save_history", True) is not False


def persisted_approvals(settings: ToolSettings) -> Approvals:
    """The tools always allowed, as the settings have them; an "always" given in
    this process is merged into the settings file as it is now (under its lock), so
    another process's answers are kept."""
    known = [settings]  # this process's own view, as last written

    def persist(names: frozenset[str]) -> None:
        mine = replace(known[0], always_allowed=names)

        def change(saved: dict[str, Any]) -> None:
            merged = mine.rebased(known[0], ToolSettings.from_settings(saved))
            saved.update(merged.to_settings())
            known[0] = mine

        update_settings(change)

    return Approvals(settings.always_allowed, on_change=persist)


def configured_tools() -> tuple[list[Tool], Approvals, list[str]]:
    """The built-in tools and approvals as the settings file has them."""
    settings = ToolSettings.from_settings(load_settings())
    tools, problems = build_tools(settings)
    return tools, persisted_approvals(settings), problems


ModelFactory = Callable[[ConnectionConfig], "ChatModel"]


class Session:
    """One surface's session. Build it with `open()` (from the settings) or directly
    (the window passes what it made itself).

    Attributes:
        config: the default connection (resolved and with its key after `start()`).
        tools: the built-in tools; the MCP servers' tools join them (`all_tools`).
        store: the history, None when conversations are not kept.
        problems: what could not be set up (tools, history, MCP), to tell the user.
    """

    orchestrator: Orchestrator
    conversations: ConversationActions

    def __init__(
        self,
        config: ConnectionConfig,
        *,
        providers: Providers | None = None,
        tools: list[Tool] | None = None,
        approvals: Approvals | None = None,
        store: Store | None = None,
        mcp: McpSetup | None = None,
        model_factory: ModelFactory | None = None,
        timeouts: Timeouts | None = None,
        credentials: Any = None,
        on_history_error: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.providers = providers or Providers([config], config.id)
        self.tools: list[Tool] = list(tools or [])
        self.approvals = approvals or Approvals()
        self.store = store
        self.mcp = mcp
        self.model_factory = model_factory
        self.timeouts = timeouts
        self.credentials = credentials
        self.on_history_error = on_history_error
        self.recorder: Recorder | None = None
        self.problems: list[str] = []
        #: Servers found on this computer while resolving "auto".
        self.discovered: list[Any] = []
        self._models: dict[str, Any] = {}
        #: conversation id -> the provider it uses (None: the default), as looked up
        #: or chosen; cleared when the providers change.
        self._provider_ids: dict[str, str | None] = {}
        self._closing: set[asyncio.Future[Any]] = set()  # old models closing after runs
        self.tool_settings: ToolSettings | None = None
        #: The projects (None when conversations are not kept).
        self.projects: Projects | None = None

    @classmethod
    def open(
        cls,
        *,
        base_url: str | None = None,
        model: str | None = None,
        local: bool = False,
        agui: str | None = None,
        api: str | None = None,
        save: bool | None = None,
        use_mcp: bool = True,
        tools: list[Tool] | None = None,
        model_factory: ModelFactory | None = None,
        on_engine_state: Any = None,
    ) -> Session:
        """A session as the settings file describes it (flags win)."""
        saved = load_settings()
        config = ConnectionConfig.resolve(
            base_url=base_url, model=model, saved=saved, local=local, agui=agui, api=api
        )
        providers = Providers.from_settings(saved)
        tool_settings = ToolSettings.from_settings(saved)
        problems: list[str] = []
        if tools is None:
            tools, problems = build_tools(tool_settings)
        store = None
        if history_enabled(saved, save):
            from ..storage import Store, StoreError

            try:
                store = Store(history_path())
            except StoreError as exc:
                problems.append(f"{exc} Conversations are not saved in this session.")
        mcp = None
        if use_mcp:
            from .mcp_setup import McpSetup

            mcp = McpSetup(data_dir())
        if model_factory is None:
            from .providers import model_from_config

            def model_factory(config: ConnectionConfig) -> ChatModel:
                return model_from_config(config, on_engine_state)  # type: ignore[no-any-return]

        session = cls(
            config,
            providers=providers,
            tools=tools,
            approvals=persisted_approvals(tool_settings),
            store=store,
            mcp=mcp,
            model_factory=model_factory,
        )
        session.problems += problems
        session.tool_settings = tool_settings
        return session

    # -- starting and stopping --------------------------------------------------------

    async def resolve(self) -> ConnectionConfig:
        """The default connection with its saved key; "auto" decided."""
        from .providers import credentials, resolve_auto, with_stored_key

        if (
            self.config.kind in ("openai", "agui")
            and not self.config.api_key
            and self.credentials is None
        ):
            self.credentials = await asyncio.to_thread(credentials)
        self.config = with_stored_key(self.config, self.credentials)
        if self.config.kind == "auto":
            self.config, self.discovered = await resolve_auto(self.config)
            self.config = with_stored_key(self.config, self.credentials)
        self.providers.replace(self.config)
        return self.config

    async def start(self, *, start_mcp: bool = True, model: ChatModel | None = None) -> None:
        """Create the model, the orchestrator and the recorder; start the MCP servers
        (`start_mcp=False`: the caller starts them later with `start_mcp()`)."""
        from ..engine.orchestrator import Orchestrator

        if model is None:
            await self.resolve()
            model = await asyncio.to_thread(self._make_model, self.config)
        self._models[self.config.id] = model
        self.orchestrator = Orchestrator(
            model,
            system_prompt=self.config.system_prompt,
            tools=self.tools,
            timeouts=self.timeouts,
            approvals=self.approvals,
        )
        if self.store is not None:
            from ..storage import Recorder

            self.store.purge_deleted()  # deleted in an earlier session: past undoing
            self.recorder = Recorder(
                self.store, self.orchestrator.dispatcher, on_error=self.on_history_error
            )
            self.recorder.start()
        if self.store is not None:
            from .projects import Projects

            self.projects = Projects(self.store)
            knowledge = load_settings().get("knowledge")
            embedding = knowledge.get("embedding_model") if isinstance(knowledge, dict) else None
            if isinstance(embedding, str) and embedding and hasattr(model, "embed"):
                self.projects.embedder = model  # type: ignore[assignment]  # its /v1/embeddings
                self.projects.embedding_model = embedding
        self.conversations = ConversationActions(
            self.orchestrator,
            self.store,
            provider_of=self.provider_of,
            model_for=self.model_for,
            default_provider=lambda: self.config.id,
            projects=self.projects,
        )
        if start_mcp:
            await self.start_mcp()

    async def start_mcp(self) -> None:
        """Start the MCP servers of mcp.json; their tools join the next runs."""
        if self.mcp is None:
            return
        await self.mcp.start()
        self.problems += [f"MCP: {p}" for p in self.mcp.problems]
        self.apply_tools()

    def all_tools(self) -> list[Tool]:
        return [*self.tools, *(self.mcp.tools() if self.mcp is not None else [])]

    def apply_tools(self) -> None:
        """The built-ins plus the connected MCP servers' tools, for the next runs."""
        if getattr(self, "orchestrator", None) is not None:
            self.orchestrator.set_tools(self.all_tools())

    def set_builtins(self, tools: list[Tool]) -> None:
        self.tools = list(tools)
        self.apply_tools()

    async def aclose(self) -> None:
        """Cancel the runs, stop the MCP servers and the recorder, close the models
        and the history."""
        if getattr(self, "orchestrator", None) is not None:
            await self.orchestrator.aclose()
        if self.mcp is not None:
            await self.mcp.aclose()
        if self.recorder is not None:
            self.recorder.stop()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        from ..engine.model import close_model

        for model in list(self._models.values()):
            await close_model(model)
        self._models.clear()
        if self.store is not None:
            self.store.close()

    # -- providers ----------------------------------------------------------------------

    def _make_model(self, config: ConnectionConfig) -> ChatModel:
        if self.model_factory is None:
            from .providers import model_from_config

            return model_from_config(config)  # type: ignore[no-any-return]
        return self.model_factory(config)

    def provider_of(self, conversation_id: str) -> ConnectionConfig:
        """The provider that answers this conversation (its own, else the default)."""
        if conversation_id in self._provider_ids:
            provider_id = self._provider_ids[conversation_id]
        else:
            conv = self.store.conversation(conversation_id) if self.store is not None else None
            provider_id = self._provider_ids[conversation_id] = conv.provider_id if conv else None
        found = self.providers.get(provider_id) if provider_id else None
        return found or self.config

    def choose_provider(self, conversation_id: str, provider_id: str) -> None:
        """This conversation's next runs use the saved provider `provider_id` (kept
        with the conversation once it is stored)."""
        self._provider_ids[conversation_id] = provider_id
        if self.store is not None and self.store.conversation(conversation_id) is not None:
            provider = self.providers.get(provider_id)
            self.store.set_settings(
                conversation_id,
                provider_id=provider_id,
                model=provider.model if provider else None,
            )

    def start_in_project(self, conversation_id: str, project_id: str) -> None:
        """A new conversation (not sent yet) starts in this project, with its default
        provider when it has one that is saved."""
        project = self.projects.get(project_id) if self.projects is not None else None
        if project is None:
            raise LookupError(f"no project {project_id!r}")
        self.conversations.starting_in[conversation_id] = project_id
        if project.provider_id and self.providers.get(project.provider_id) is not None:
            self._provider_ids[conversation_id] = project.provider_id

    def set_providers(self, providers: Providers) -> Any:
        """New saved providers (Settings → Save): the next runs use models made from
        them; runs under way keep the model they started with, closed once they end.
        Returns the new default model."""
        old = list(self._models.values())
        self._models = {}
        self._provider_ids.clear()
        self.providers = providers
        self.config = providers.default
        model = self._models[self.config.id] = self._make_model(self.config)
        orchestrator = self.orchestrator
        orchestrator.model = model
        orchestrator.config = replace(orchestrator.config, system_prompt=self.config.system_prompt)
        for tenant in orchestrator.tenants():
            orchestrator.configure(tenant)  # picked again at the next run
        running = [h for t in orchestrator.tenants() for h in orchestrator.runs(t)]
        task = asyncio.ensure_future(_close_after(running, old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return model

    def compact_now(self, conversation_id: str) -> None:
        """ "Compact now": the conversation's next request leaves out (or summarises)
        more of its older messages, as after a context-length error."""
        self.orchestrator.context(conversation_id).request_compaction()

    def set_context_policy(self, conversation_id: str, policy: Any) -> None:
        """This conversation's own reserve and strategy (`ContextPolicy`; None: its
        provider's), kept with the conversation."""
        if self.store is not None:
            self.conversations.prepare(conversation_id)  # (stored before its first message)
        self.orchestrator.context(conversation_id).policy = policy
        if self.store is not None:
            from ..storage.model_requests import set_context_settings

            settings = None
            if policy is not None:
                settings = {"reserve": policy.reserve, "strategy": policy.strategy}
            set_context_settings(self.store, conversation_id, settings)

    def context_policy(self, conversation_id: str) -> Any:
        """The conversation's own `ContextPolicy`, or None (its provider's)."""
        keeper = self.orchestrator.context(conversation_id)
        return keeper.policy if keeper.own_policy else None

    async def load_model(self, model: Any = None) -> None:
        """Start the embedded model now rather than at the first message (nothing to
        do for a server); raises `ModelError` when it cannot start."""
        engine = getattr(model if model is not None else self.orchestrator.model, "engine", None)
        if engine is not None:
            await engine.ensure_running()

    # -- tools --------------------------------------------------------------------------

    def apply_tool_settings(self, settings: ToolSettings, *, rebuild: bool = True) -> list[str]:
        """New tool settings: the tools that run without asking from now on, and
        (`rebuild`) the built-in tools of the next runs. Returns what could not be
        set up."""
        self.tool_settings = settings
        approvals = self.approvals
        for name in approvals.always - settings.always_allowed:
            approvals.revoke(name)
        for name in settings.always_allowed - approvals.always:
            approvals.allow_always(name)
        if not rebuild:
            return []
        tools, problems = build_tools(settings)
        self.set_builtins(tools)
        return problems

    def model_for(self, provider: ConnectionConfig) -> Any:
        """The `ChatModel` of a saved provider (made once, with its saved key)."""
        model = self._models.get(provider.id)
        if model is None:
            from .providers import with_stored_key

            model = self._models[provider.id] = self._make_model(
                with_stored_key(provider, self.credentials)
            )
        return model

    def set_model(self, config: ConnectionConfig) -> Any:
        """Switch the default connection for runs that start from now on; returns the
        model it replaced (the caller closes it)."""
        old = self.orchestrator.model
        model = self._make_model(config)
        self._models.pop(self.config.id, None)
        self.config = config
        self._models[config.id] = model
        self.orchestrator.model = model
        return old


async def _close_after(runs: list[Any], models: list[Any]) -> None:
    """Release `models` once `runs` (which may still use them) have finished."""
    from ..engine.model import close_model

    await asyncio.gather(*(run.wait() for run in runs), return_exceptions=True)
    for model in models:
        await close_model(model)
