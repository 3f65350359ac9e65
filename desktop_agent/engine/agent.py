"""The agent: the model <-> tools loop, told as a stream of events.

One `Agent` holds configuration (model, tools, prompt, limits) and may serve many
runs at once; each `handle_message` call is one run with its own gapless `seq`.
Every run ends with exactly one `DONE`; a failed run has an `ERROR` before it; a
cancelled or failed run still completes its partial message (`MESSAGE_COMPLETE`
with `finish_reason` "cancelled" / "error") and closes every started tool call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .approval import Approvals
from .dispatcher import EventDispatcher
from .events import Event, EventMeta, EventType
from .model import ChatModel, RetryPolicy, Timeouts, Usage
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
            effects); answer with `approve()`.
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
    ) -> None:
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.system_prompt = system_prompt
        self.model = model
        self.tools = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools)
        self.dispatcher = dispatcher if dispatcher is not None else EventDispatcher()
        self.max_steps = max_steps
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.approvals = approvals or Approvals()
        self._runs: dict[str, Run] = {}

    def start_state(self, state: AgentState | None = None) -> AgentState:
        """`state` (or a new one) with this agent's system prompt in place."""
        return (state or AgentState()).with_system_prompt(self.system_prompt)

    def begin(
        self,
        message: str | None,
        state: AgentState | None = None,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
    ) -> AgentState:
        """The state a run starts from: `state` plus the user's `message`."""
        start = self.start_state(state)
        return start.begin_run(run_id or new_id("run"), tenant_id or start.tenant_id, message)

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
        return await self.run(self.begin(message, state, run_id=run_id, tenant_id=tenant_id))

    async def run(self, initial: AgentState) -> AgentState:
        """Execute a run from the state `begin()` returned."""
        run = Run(self, initial)
        self._runs[run.run_id] = run
        try:
            return await run.execute()
        finally:
            self._runs.pop(run.run_id, None)

    def publish_unstarted(self, run_id: str, tenant_id: str) -> None:
        """End a run that was cancelled before it started: a lone `DONE` cancelled."""
        meta = EventMeta(run_id, tenant_id, 0)
        data = {"status": "cancelled", "duration_ms": 0.0, "usage": Usage().to_dict()}
        self.dispatcher.publish(Event(EventType.DONE, data, meta))

    def cancel(self, run_id: str) -> bool:
        """Stop a run; it ends with `DONE` "cancelled". False if no such run."""
        run = self._runs.get(run_id)
        if run is None:
            return False
        run.cancel()
        return True

    def approve(self, run_id: str, call_id: str, decision: str) -> bool:
        """Answer a TOOL_APPROVAL_REQUEST: "allow", "always" or "deny". False if that
        run has no call waiting under `call_id` (answered already, or ended)."""
        run = self._runs.get(run_id)
        return run.answer(call_id, decision) if run is not None else False

    @property
    def active_runs(self) -> list[str]:
        return list(self._runs)
