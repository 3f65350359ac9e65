"""Conversations (tenants) and the runs that answer them.

Runs belong to the `Orchestrator`, never to whoever watches them: a consumer of
`process_stream` that stops iterating only stops watching, and the run goes on to
its `DONE`. Each tenant has its own history; runs of different tenants proceed
concurrently, and a second message to a busy tenant waits its turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .agent import Agent, new_id
from .approval import Approvals
from .dispatcher import EventDispatcher, Subscription
from .model import ChatModel, Message, RetryPolicy, Timeouts
from .model import close_model as close_model_
from .state import AgentState
from .stream import StreamEngine, StreamItem, StreamMode
from .tools import Tool, ToolRegistry

__all__ = ["Orchestrator", "RunHandle"]


@dataclass
class RunHandle:
    """A run the orchestrator owns: await `wait()` for its final state."""

    run_id: str
    tenant_id: str
    message: str | None
    task: asyncio.Task[AgentState] = field(repr=False)
    #: The state the run started from, once it has started.
    initial: AgentState | None = None

    @property
    def started(self) -> bool:
        return self.initial is not None

    @property
    def done(self) -> bool:
        return self.task.done()

    async def wait(self) -> AgentState:
        return await asyncio.shield(self.task)


@dataclass
class _Tenant:
    state: AgentState
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    runs: dict[str, RunHandle] = field(default_factory=dict)
    #: This conversation's own model / system prompt (`configure`), else the default.
    agent: Agent | None = None


class Orchestrator:
    """Owns conversations and their runs; every run's events go to `dispatcher`.

    Args:
        llm_client: the `ChatModel` that answers (e.g. `OpenAIClient`).
        system_prompt, tools, max_steps, timeouts, retry: as for `Agent`.
        dispatcher: shared by all runs; subscribe to it to watch any conversation.
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
        self.agent = Agent(
            system_prompt,
            model=llm_client,
            tools=tools,
            dispatcher=self.dispatcher,
            max_steps=max_steps,
            timeouts=timeouts,
            retry=retry,
            approvals=approvals,
        )
        self._tenants: dict[str, _Tenant] = {}
        self._closed = False

    @property
    def model(self) -> ChatModel:
        return self.agent.model

    @model.setter
    def model(self, model: ChatModel) -> None:
        """Switch the model for runs that start from now on."""
        self.agent.model = model

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

    def history(self, tenant_id: str) -> tuple[Message, ...]:
        return self._tenant(tenant_id).state.messages

    def set_history(self, tenant_id: str, messages: Sequence[Message]) -> None:
        """Replace a tenant's history (loading a stored conversation, editing)."""
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
        base = self.agent
        if model is None and system_prompt is None:
            tenant.agent = None
            return
        tenant.agent = Agent(
            base.system_prompt if system_prompt is None else system_prompt,
            model=model or base.model,
            tools=base.tools,
            dispatcher=self.dispatcher,
            max_steps=base.max_steps,
            timeouts=base.timeouts,
            retry=base.retry,
            approvals=base.approvals,
        )

    def set_tools(self, tools: Iterable[Tool | Callable[..., Any]]) -> None:
        """The tools runs may use from now on (every conversation)."""
        registry = ToolRegistry(tools)
        self.agent.tools = registry
        for tenant in self._tenants.values():
            if tenant.agent is not None:
                tenant.agent.tools = registry

    def tenants(self) -> list[str]:
        return list(self._tenants)

    def forget(self, tenant_id: str) -> bool:
        """Drop an idle conversation's state (its history, its configuration).

        False, and nothing dropped, while it has a run running or queued."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None or any(not h.done for h in tenant.runs.values()):
            return False
        del self._tenants[tenant_id]
        return True

    def busy(self, tenant_id: str) -> bool:
        tenant = self._tenants.get(tenant_id)
        return bool(tenant and any(not h.done for h in tenant.runs.values()))

    def runs(self, tenant_id: str) -> list[RunHandle]:
        tenant = self._tenants.get(tenant_id)
        return list(tenant.runs.values()) if tenant else []

    # -- runs ---------------------------------------------------------------------

    def submit(
        self, message: str | None, *, tenant_id: str = "default", run_id: str | None = None
    ) -> RunHandle:
        """Start (or queue) a run answering `message`; returns at once."""
        if self._closed:
            raise RuntimeError("the orchestrator is closed")
        tenant = self._tenant(tenant_id)
        run_id = run_id or new_id("run")
        task = asyncio.get_running_loop().create_task(
            self._execute(tenant, tenant_id, run_id, message), name=f"run {run_id}"
        )
        handle = RunHandle(run_id, tenant_id, message, task)
        tenant.runs[run_id] = handle
        task.add_done_callback(lambda _t: tenant.runs.pop(run_id, None))
        return handle

    async def _execute(
        self, tenant: _Tenant, tenant_id: str, run_id: str, message: str | None
    ) -> AgentState:
        try:
            await tenant.lock.acquire()
        except asyncio.CancelledError:
            # Cancelled while queued: its watchers still get their one DONE.
            self.agent.publish_unstarted(run_id, tenant_id)
            return tenant.state
        try:
            handle = tenant.runs.get(run_id)
            agent = tenant.agent or self.agent
            initial = agent.begin(message, tenant.state, run_id=run_id, tenant_id=tenant_id)
            if handle is not None:
                handle.initial = initial
            final = await agent.run(initial)
            tenant.state = final
            return final
        finally:
            tenant.lock.release()

    async def process_stream(
        self,
        message: str | None,
        *,
        tenant_id: str = "default",
        mode: StreamMode | str = StreamMode.EVENTS,
    ) -> AsyncIterator[StreamItem]:
        """Submit `message` and yield the run's stream in `mode`.

        Breaking out of the loop stops watching; the run continues. Use
        `cancel(tenant_id)` to stop it.
        """
        run_id = new_id("run")
        sub = self.dispatcher.subscribe(run_id=run_id)
        handle = self.submit(message, tenant_id=tenant_id, run_id=run_id)
        try:
            async for item in self.watch(handle, sub, mode):
                yield item
        finally:
            sub.close()

    def watch(
        self,
        handle: RunHandle,
        sub: Subscription,
        mode: StreamMode | str = StreamMode.EVENTS,
    ) -> AsyncIterator[StreamItem]:
        """The run's stream in `mode` (subscribe with its run_id before submitting)."""

        def initial() -> AgentState:
            assert handle.initial is not None, "the run has not started"
            return handle.initial

        return StreamEngine(mode).view(sub, initial)

    def cancel(self, tenant_id: str) -> bool:
        """Stop the tenant's running run and drop its queued ones."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return False
        found = False
        for handle in list(tenant.runs.values()):
            if handle.done:
                continue
            found = True
            if handle.started:
                (tenant.agent or self.agent).cancel(handle.run_id)
            else:
                handle.task.cancel()
        return found

    def approve(
        self,
        call_id: str,
        decision: str,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
    ) -> bool:
        """Answer a TOOL_APPROVAL_REQUEST ("allow", "always" or "deny") of a run (by
        its id, else the running one of `tenant_id`). False if nothing waits."""
        for tid, tenant in self._tenants.items():
            if tenant_id is not None and tid != tenant_id:
                continue
            agent = tenant.agent or self.agent
            for handle in tenant.runs.values():
                if run_id is not None and handle.run_id != run_id:
                    continue
                if not handle.done and agent.approve(handle.run_id, call_id, decision):
                    return True
        return False

    @property
    def approvals(self) -> Approvals:
        """Which tools need approval, and those the user always allows."""
        return self.agent.approvals

    def cancel_run(self, run_id: str) -> bool:
        for tenant in self._tenants.values():
            handle = tenant.runs.get(run_id)
            if handle is not None and not handle.done:
                if handle.started:
                    (tenant.agent or self.agent).cancel(run_id)
                else:
                    handle.task.cancel()
                return True
        return False

    async def aclose(self, *, close_model: bool = False) -> None:
        """Cancel every run and wait for each to publish its DONE; with
        `close_model`, then release the model (connections, a local engine)."""
        self._closed = True
        handles = [h for t in self._tenants.values() for h in t.runs.values()]
        for tenant_id in list(self._tenants):
            self.cancel(tenant_id)
        for handle in handles:
            with contextlib.suppress(asyncio.CancelledError):
                await handle.task
        if close_model:
            models = [self.agent.model]
            for tenant in self._tenants.values():
                if tenant.agent is not None and tenant.agent.model not in models:
                    models.append(tenant.agent.model)
            for model in models:
                await close_model_(model)
