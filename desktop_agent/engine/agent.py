"""The agent: the model <-> tools loop, told as a stream of events.

An `Agent` is a configuration (`AgentConfig`) and a dispatcher; each run it starts
snapshots the configuration, has its own gapless `seq`, and is held by the
`RunHandle` that `start()` returns. Every run ends with exactly one `DONE`; a
failed run has an `ERROR` before it; a cancelled or failed run still completes its
partial message (`MESSAGE_COMPLETE` with `finish_reason` "cancelled" / "error")
and closes every started tool call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from .approval import Approvals
from .compaction import ContextKeeper
from .config import AgentConfig
from .dispatcher import EventDispatcher
from .handle import RunHandle
from .model import ChatModel, RetryPolicy, Timeouts
from .run import MaxStepsExceeded, Run, new_id
from .state import AgentState
from .tools import Tool, ToolRegistry

__all__ = ["Agent", "MaxStepsExceeded", "new_id"]


class Agent:
    """Talks to a `ChatModel`, calls tools, and publishes what happens as events.

    Args:
        system_prompt: the system message put first in every conversation.
        model: any `ChatModel` (`OpenAIClient`, `ScriptedModel`, ...).
        tools: `@tool` functions or `Tool`s.
        dispatcher: where events go; a new `EventDispatcher` if None.
        max_steps: how many model requests one run may make.
        timeouts: connect / first token / idle / total / tool limits.
        retry: how requests that failed before any text are retried.
        approvals: which tool calls wait for the user (default: tools with side
            effects); answer through the run's handle (`RunHandle.approve`).
        context: the context budget and compaction (`ContextKeeper`); by default the
            model's own `context_window`, summarising what does not fit.

    Changing an attribute (`agent.model = ...`) replaces the configuration for the
    runs that start afterwards; running ones keep theirs.
    """

    def __init__(
        self,
        system_prompt: str = "",
        *,
        model: ChatModel,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        dispatcher: EventDispatcher | None = None,
        max_steps: int = 10,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        approvals: Approvals | None = None,
        context: ContextKeeper | None = None,
    ) -> None:
        self.config = AgentConfig.create(
            model,
            system_prompt=system_prompt,
            tools=tools,
            max_steps=max_steps,
            timeouts=timeouts,
            retry=retry,
            approvals=approvals,
            context=context,
        )
        self.dispatcher = dispatcher if dispatcher is not None else EventDispatcher()

    # The configuration's fields, read and replaced one at a time.
    @property
    def model(self) -> ChatModel:
        return self.config.model

    @model.setter
    def model(self, model: ChatModel) -> None:
        self.config = replace(self.config, model=model)

    @property
    def system_prompt(self) -> str:
        return self.config.system_prompt

    @system_prompt.setter
    def system_prompt(self, prompt: str) -> None:
        self.config = replace(self.config, system_prompt=prompt)

    @property
    def tools(self) -> ToolRegistry:
        return self.config.tools

    @tools.setter
    def tools(self, tools: Iterable[Tool | Callable[..., Any]]) -> None:
        self.config = self.config.with_tools(tools)

    @property
    def approvals(self) -> Approvals:
        return self.config.approvals

    def begin(
        self,
        message: str | None,
        state: AgentState | None = None,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
    ) -> AgentState:
        """The state a run starts from: `state` plus the user's `message`."""
        start = state or AgentState()
        return self.config.begin(
            message, start, run_id=run_id or new_id("run"), tenant_id=tenant_id or start.tenant_id
        )

    def start(
        self,
        message: str | None,
        state: AgentState | None = None,
        *,
        tenant_id: str | None = None,
    ) -> RunHandle:
        """Start a run in the background; its handle gives its events, approvals,
        cancellation and final state. Call `handle.events()` before awaiting anything
        else, so no event is missed."""
        initial = self.begin(message, state, tenant_id=tenant_id)
        assert initial.run_id is not None
        handle = RunHandle(initial.run_id, initial.tenant_id, message, self.dispatcher)
        run = Run(self.config, self.dispatcher.publish, initial, message)
        handle.attach(run)
        handle.task = asyncio.get_running_loop().create_task(
            run.execute(), name=f"run {run.run_id}"
        )
        return handle

    async def handle_message(
        self,
        message: str | None,
        state: AgentState | None = None,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
    ) -> AgentState:
        """Run the agent on `message` (None: answer the history as it stands).

        Returns the state after the run: the history with the new messages, and
        `status` done, cancelled or failed. Errors of the model or the tools end
        up in the events and the returned state, not as exceptions. Cancelling the
        calling task cancels the run: its events end with `DONE` "cancelled" and
        the `CancelledError` propagates.
        """
        initial = self.begin(message, state, run_id=run_id, tenant_id=tenant_id)
        return await self.run(initial, message)

    async def run(self, initial: AgentState, message: str | None = None) -> AgentState:
        """Execute a run from the state `begin()` returned for `message`, in the
        calling task."""
        return await Run(self.config, self.dispatcher.publish, initial, message).execute()
