"""A run's tool calls: approval, starting and ending each call, remote results.

`ToolCalls` is the part of a `Run` (run.py) that executes the tool calls the
model asked for: it checks each call (known tool, valid arguments), asks the
user's approval when the tool needs it (pausing the run's total timeout
meanwhile), runs it with its time limit, and tells it as `TOOL_CALL_START` /
`TOOL_CALL_END`. A call a remote agent already ran is shown with its result.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .approval import ALWAYS, DECISIONS, DENIED_MESSAGE, DENY
from .config import AgentConfig
from .events import (
    Event,
    EventMeta,
    ToolApprovalRequest,
    ToolCallEnd,
    ToolCallRequest,
    ToolCallStart,
    result_text,
)
from .state import AgentState
from .status import AgentStatus
from .text import scrub
from .tools import ToolArgumentError

__all__ = ["ToolCalls"]


@dataclass
class _CallBuilder:
    """A tool call assembled from deltas.

    `id` is the app's own id (random, unique): every event, the history and the
    approval of the call use it. The provider's id (`provider_id`) is untrusted (it
    may repeat, or carry markup); it is kept only for the wire back to that provider.
    """

    id: str
    name: str
    provider_id: str | None = None
    arguments: str = ""

    def request(self) -> ToolCallRequest:
        return ToolCallRequest(self.id, self.name, self.arguments, self.provider_id)


class ToolCalls:
    """The tool-call half of a `Run` (a mixin: `Run` gives it the run's config,
    state and emitting, and the open calls and approvals it tracks)."""

    config: AgentConfig
    state: AgentState
    _open_calls: dict[str, str]  # call_id -> tool name, started not ended
    # call_id -> (tool name, the user's answer): calls waiting for approval
    _approvals: dict[str, tuple[str, asyncio.Future[str]]]
    _deadline: asyncio.Timeout | None  # the run's total limit
    _paused_left: float | None  # its time left while paused

    if TYPE_CHECKING:

        def meta(self) -> EventMeta: ...

        def emit(self, event: Event) -> None: ...

        def set_status(self, status: AgentStatus) -> None: ...

    # -- tools ------------------------------------------------------------------

    def _start_tool(self, call_id: str, name: str, arguments: Any, ran_by: str = "") -> None:
        self._open_calls[call_id] = name
        self.emit(ToolCallStart(call_id, name, arguments, ran_by, meta=self.meta()))

    def _end_tool(
        self, call_id: str, name: str, result: str | None, error: str | None, ms: float
    ) -> None:
        self._open_calls.pop(call_id, None)
        self.emit(ToolCallEnd(call_id, name, result, error, round(ms, 1), meta=self.meta()))

    async def _call_tool(self, call: _CallBuilder) -> None:
        # A call a remote agent already ran (AG-UI): shown with its result, not run.
        remote = getattr(self.config.model, "remote_result", None)
        ran_remotely = remote(call.provider_id) if remote is not None else None
        if isinstance(ran_remotely, str):
            self._start_tool(call.id, call.name, _loose_json(call.arguments), "agent")
            self._end_tool(call.id, call.name, ran_remotely, None, 0.0)
            return
        registry = self.config.tools
        found = registry.get(call.name)
        if found is None:
            self._start_tool(call.id, call.name, _loose_json(call.arguments))
            names = ", ".join(registry.names) or "none"
            self._end_tool(
                call.id,
                call.name,
                None,
                f"unknown tool {call.name!r}; available tools: {names}",
                0.0,
            )
            return
        try:
            args = found.parse_arguments(call.arguments)
        except ToolArgumentError as exc:
            self._start_tool(call.id, call.name, _loose_json(call.arguments))
            self._end_tool(call.id, call.name, None, f"invalid arguments: {exc}", 0.0)
            return
        approvals = self.config.approvals
        if approvals.needed(found):
            decision = await self._ask_approval(call.id, call.name, _jsonable_args(args))
            if decision == DENY:
                self._end_tool(call.id, call.name, None, DENIED_MESSAGE, 0.0)
                return
            if decision == ALWAYS:
                approvals.allow_always(call.name)
        self._start_tool(call.id, call.name, _jsonable_args(args))
        limit = found.timeout if found.timeout is not None else self.config.timeouts.tool
        started = time.monotonic()
        result: str | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(limit):
                value = await found.invoke(args)
            result = result_text(value)
        except TimeoutError:
            error = f"timed out after {limit:g} s"
        except Exception as exc:
            error = scrub(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        self._end_tool(call.id, call.name, result, error, (time.monotonic() - started) * 1000)

    # -- approval ---------------------------------------------------------------

    async def _ask_approval(self, call_id: str, name: str, arguments: Any) -> str:
        """Publish TOOL_APPROVAL_REQUEST and wait for `answer()`; the run's total
        timeout does not run meanwhile."""
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._approvals[call_id] = (name, answer)
        self._pause_deadline()
        self.set_status(AgentStatus.AWAITING_APPROVAL)
        self.emit(ToolApprovalRequest(call_id, name, arguments, meta=self.meta()))
        decision = await answer  # (cancelled: the call stays listed, `_finish` ends it)
        self._approvals.pop(call_id, None)
        if not self._approvals:
            self._resume_deadline()
            if self.state.status is AgentStatus.AWAITING_APPROVAL:
                self.set_status(AgentStatus.CALLING_TOOL)
        return decision

    def answer(self, call_id: str, decision: str) -> bool:
        """The user's decision on a call waiting for approval; False if none waits."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
        waiting = self._approvals.get(call_id)
        if waiting is None or waiting[1].done():
            return False
        waiting[1].set_result(decision)
        return True

    def _pause_deadline(self) -> None:
        deadline = self._deadline
        if deadline is None or self._paused_left is not None:
            return
        when = deadline.when()
        if when is not None:
            self._paused_left = max(0.0, when - asyncio.get_running_loop().time())
            deadline.reschedule(None)

    def _resume_deadline(self) -> None:
        deadline, left = self._deadline, self._paused_left
        self._paused_left = None
        if deadline is not None and left is not None:
            deadline.reschedule(asyncio.get_running_loop().time() + left)


def _loose_json(text: str) -> Any:
    """The arguments as an object when they parse, else the raw text."""
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return text


def _jsonable_args(args: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.value if hasattr(v, "value") and not isinstance(v, (str, int)) else v)
        for k, v in args.items()
    }
