"""Conversations (tenants) and the runs that answer them.

Runs belong to the `Orchestrator`, never to whoever watches them: `submit()`
returns the run's `RunHandle`; a consumer of `handle.events(mode)` that stops
iterating only stops watching, and the run goes on to its `DONE`. Each tenant has
its own messages; runs of different tenants proceed
concurrently, and a second message to a busy tenant waits its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .approval import Approvals
from .compaction import ContextKeeper
from .config import AgentConfig
from .dispatcher import EventDispatcher
from .handle import RunHandle
from .model import ChatModel, ContentPart, Message, RetryPolicy, Timeouts
from .model import close_model as close_model_
from .run import Run, new_id, publish_unstarted
from .state import AgentState
from .tools import Tool

__all__ = ["Orchestrator", "RunHandle"]


@dataclass
class _Tenant:
    state: AgentState
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    runs: dict[str, RunHandle] = field(default_factory=dict)
    #: This conversation's own model / system prompt (`configure`); None: the default.
    model: ChatModel | None = None
    system_prompt: str | None = None
    #: Tools only this conversation's runs may call besides the default ones
    #: (`add_tools`: an AG-UI client's frontend tools).
    extra_tools: tuple[Tool, ...] = ()


class Orchestrator:
    """Owns conversations and their runs; every run's events go to `dispatcher`.

    Args:
        llm_client: the `ChatModel` that answers (e.g. `OpenAIClient`).
        system_prompt, tools, max_steps, timeouts, retry, approvals: the default
            `AgentConfig` (`config`), which `configure()` adjusts per conversation.
        dispatcher: shared by all runs; subscribe to it to watch any conversation.

    A run takes its configuration when it starts; changing the configuration (of
    the orchestrator or a conversation) affects the next run only.
    """

    def __init__(
        self,
        llm_client: ChatModel,
        *,
        system_prompt: str = "",
        tools: Iterable[Tool | Callable[..., Any]] = (),
        dispatcher: EventDispatcher | None = None,
        max_steps: int = 10,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        approvals: Approvals | None = None,
    ) -> None:
        self.dispatcher = dispatcher if dispatcher is not None else EventDispatcher()
        #: The configuration of every conversation that has none of its own.
        self.config = AgentConfig.create(
            llm_client,
            system_prompt=system_prompt,
            tools=tools,
            max_steps=max_steps,
            timeouts=timeouts,
            retry=retry,
            approvals=approvals,
        )
        self._tenants: dict[str, _Tenant] = {}
        #: each conversation's context keeper (`context()`)
        self._contexts: dict[str, ContextKeeper] = {}
        self._closed = False

    @property
    def model(self) -> ChatModel:
        return self.config.model

    @model.setter
    def model(self, model: ChatModel) -> None:
        """Switch the default model for runs that start from now on."""
        self.config = replace(self.config, model=model)

    @property
    def approvals(self) -> Approvals:
        """Which tools need approval, and those the user always allows."""
        return self.config.approvals

    # -- conversations ----------------------------------------------------------

    def _tenant(self, tenant_id: str) -> _Tenant:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            tenant = _Tenant(AgentState(tenant_id=tenant_id))
            self._tenants[tenant_id] = tenant
        return tenant

    def state(self, tenant_id: str) -> AgentState:
        """The tenant's state after its last finished run."""
        return self._tenant(tenant_id).state

    def messages(self, tenant_id: str) -> tuple[Message, ...]:
        return self._tenant(tenant_id).state.messages

    def set_messages(self, tenant_id: str, messages: Sequence[Message]) -> None:
        """Replace a tenant's messages (loading a stored conversation, editing)."""
        tenant = self._tenant(tenant_id)
        tenant.state = replace(tenant.state, messages=tuple(messages))

    def configure(
        self,
        tenant_id: str,
        *,
        model: ChatModel | None = None,
        system_prompt: str | None = None,
    ) -> None:
        """Give one conversation its own model and/or system prompt (runs that start
        from now on); None keeps the orchestrator's default for that setting."""
        tenant = self._tenant(tenant_id)
        tenant.model = model
        tenant.system_prompt = system_prompt

    def context(self, tenant_id: str) -> ContextKeeper:
        """The conversation's context keeper (its summaries, cut and policy). Kept apart
        from the tenants: asking for it does not make a conversation known (its history
        is still read from the store at its first run)."""
        keeper = self._contexts.get(tenant_id)
        if keeper is None or keeper.parent is not self.config.context:
            keeper = self._contexts[tenant_id] = self.config.context.child()
        return keeper

    def config_for(self, tenant_id: str) -> AgentConfig:
        """The configuration the tenant's next run starts with."""
        tenant = self._tenants.get(tenant_id)
        context = self.context(tenant_id)
        if tenant is None or (
            tenant.model is None and tenant.system_prompt is None and not tenant.extra_tools
        ):
            return replace(self.config, context=context)
        config = self.config
        if tenant.extra_tools:
            own = {t.name for t in tenant.extra_tools}
            config = config.with_tools(
                [*(t for t in config.tools if t.name not in own), *tenant.extra_tools]
            )
        return replace(
            config,
            context=context,
            model=tenant.model or self.config.model,
            system_prompt=self.config.system_prompt
            if tenant.system_prompt is None
            else tenant.system_prompt,
        )

    def add_tools(self, tenant_id: str, tools: Iterable[Tool]) -> None:
        """Tools one conversation's next runs may call besides the default ones (a
        tool of the same name replaces the default); `()` removes them."""
        self._tenant(tenant_id).extra_tools = tuple(tools)

    def set_tools(self, tools: Iterable[Tool | Callable[..., Any]]) -> None:
        """The tools runs may use from now on (every conversation)."""
        self.config = self.config.with_tools(tools)

    def tenants(self) -> list[str]:
        return list(self._tenants)

    def forget(self, tenant_id: str) -> bool:
        """Drop an idle conversation's state (its history, its configuration).

        False, and nothing dropped, while it has a run running or queued."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None or any(not h.done for h in tenant.runs.values()):
            return False
        del self._tenants[tenant_id]
        self._contexts.pop(tenant_id, None)
        return True

    def busy(self, tenant_id: str) -> bool:
        tenant = self._tenants.get(tenant_id)
        return bool(tenant and any(not h.done for h in tenant.runs.values()))

    def runs(self, tenant_id: str) -> list[RunHandle]:
        """The tenant's runs that have not finished (running first, then queued)."""
        tenant = self._tenants.get(tenant_id)
        return [h for h in tenant.runs.values() if not h.done] if tenant else []

    # -- runs ---------------------------------------------------------------------

    def submit(
        self,
        message: str | None,
        *,
        tenant_id: str = "default",
        run_id: str | None = None,
        parts: Sequence[ContentPart] = (),
    ) -> RunHandle:
        """Start (or queue) a run answering `message` (with the content `parts` of its
        attachments, if any); returns its handle at once.

        Call `handle.events(mode)` before awaiting anything to watch it from its
        first event."""
        if self._closed:
            raise RuntimeError("the orchestrator is closed")
        tenant = self._tenant(tenant_id)
        run_id = run_id or new_id("run")
        handle = RunHandle(run_id, tenant_id, message, self.dispatcher)
        handle.parts = tuple(parts)
        handle.task = asyncio.get_running_loop().create_task(
            self._execute(tenant, handle), name=f"run {run_id}"
        )
        tenant.runs[run_id] = handle

        def finished(task: asyncio.Task[AgentState]) -> None:
            tenant.runs.pop(run_id, None)
            if task.cancelled() and not handle.started:
                # Cancelled before its task took a step (so `_execute` never ran):
                # its watchers still get their one DONE.
                handle.dropped(tenant.state)
                publish_unstarted(self.dispatcher.publish, run_id, tenant_id)

        handle.task.add_done_callback(finished)
        return handle

    async def _execute(self, tenant: _Tenant, handle: RunHandle) -> AgentState:
        try:
            await tenant.lock.acquire()
        except asyncio.CancelledError:
            # Cancelled while queued: its watchers still get their one DONE.
            publish_unstarted(self.dispatcher.publish, handle.run_id, handle.tenant_id)
            return tenant.state
        try:
            config = self.config_for(handle.tenant_id)
            initial = config.begin(
                handle.message,
                tenant.state,
                run_id=handle.run_id,
                tenant_id=handle.tenant_id,
                parts=handle.parts,
            )
            run = Run(config, self.dispatcher.publish, initial, handle.message)
            run.attachments = tuple(
                p["attachment"] for p in handle.parts if isinstance(p.get("attachment"), dict)
            )
            handle.attach(run)
            final = await run.execute()
            tenant.state = final
            return final
        finally:
            tenant.lock.release()

    def _handles(self, tenant_id: str | None) -> list[RunHandle]:
        if tenant_id is not None:
            tenant = self._tenants.get(tenant_id)
            return list(tenant.runs.values()) if tenant else []
        return [h for t in self._tenants.values() for h in t.runs.values()]

    def cancel(self, tenant_id: str) -> bool:
        """Stop the tenant's running run and drop its queued ones."""
        found = False
        for handle in self._handles(tenant_id):
            found = handle.cancel() or found
        return found

    def cancel_run(self, run_id: str) -> bool:
        return any(h.cancel() for h in self._handles(None) if h.run_id == run_id)

    def approve(
        self,
        call_id: str,
        decision: str,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
    ) -> bool:
        """Answer a TOOL_APPROVAL_REQUEST ("allow", "always" or "deny") of one run
        (by its id) or of one conversation's running run. False if nothing waits."""
        if run_id is None and tenant_id is None:
            raise ValueError("approve() needs the run_id or the tenant_id it answers")
        return any(
            handle.approve(call_id, decision)
            for handle in self._handles(tenant_id)
            if run_id is None or handle.run_id == run_id
        )

    async def aclose(self, *, close_model: bool = False) -> None:
        """Cancel every run and wait for each to publish its DONE; with
        `close_model`, then release the models (connections, a local engine)."""
        self._closed = True
        handles = self._handles(None)
        for handle in handles:
            handle.cancel()
        for handle in handles:
            with contextlib.suppress(asyncio.CancelledError):
                await handle.task
        if close_model:
            models = [self.config.model]
            for tenant in self._tenants.values():
                if tenant.model is not None and tenant.model not in models:
                    models.append(tenant.model)
            for model in models:
                await close_model_(model)
