"""Agent state as a value: `AgentStatus`, `AgentState`, and how events change it.

`AgentState.apply(event)` is the one definition of what an event does to the
state. The agent keeps its history with it, and any observer that folds the same
events over the same starting state gets the same history, which is how
`StreamMode.VALUES` produces full snapshots from the event stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from .events import Event, EventType
from .model import Message, Usage

__all__ = [
    "AgentState",
    "AgentStateSnapshot",
    "AgentStatus",
    "ToolCallState",
    "history_tool_call",
]


class AgentStatus(StrEnum):
    IDLE = "idle"
    THINKING = "thinking"
    STREAMING = "streaming"
    CALLING_TOOL = "calling_tool"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def busy(self) -> bool:
        """True while a run is under way (the spinner's condition)."""
        return self in _BUSY

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_BUSY = frozenset(
    {
        AgentStatus.THINKING,
        AgentStatus.STREAMING,
        AgentStatus.CALLING_TOOL,
        AgentStatus.AWAITING_APPROVAL,
    }
)
_FINISHED = frozenset({AgentStatus.DONE, AgentStatus.CANCELLED, AgentStatus.FAILED})

#: DONE's `status` -> the agent's final status.
DONE_STATUS = {
    "completed": AgentStatus.DONE,
    "cancelled": AgentStatus.CANCELLED,
    "failed": AgentStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class ToolCallState:
    """One tool call of the current run, as far as it has gone."""

    call_id: str
    tool_name: str
    #: "writing" (arguments streaming), "awaiting_approval", "running", "done", "error"
    status: str = "writing"
    arguments: Any = ""
    result: str | None = None
    error: str | None = None
    duration_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class AgentState:
    """The conversation so far and where the current run stands."""

    messages: tuple[Message, ...] = ()
    status: AgentStatus = AgentStatus.IDLE
    run_id: str | None = None
    tenant_id: str = "default"
    #: The assistant message being streamed (cleared when it completes).
    message_id: str | None = None
    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCallState, ...] = ()
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    #: The user's message this run answers (None: it answers the history as it stands).
    input: str | None = None

    def begin_run(self, run_id: str, tenant_id: str, user_message: str | None) -> AgentState:
        """The state at the start of a run that answers `user_message`."""
        messages = self.messages
        if user_message is not None:
            messages = (*messages, {"role": "user", "content": user_message})
        return replace(
            self,
            messages=messages,
            status=AgentStatus.IDLE,
            run_id=run_id,
            tenant_id=tenant_id,
            message_id=None,
            text="",
            reasoning="",
            tool_calls=(),
            usage=Usage(),
            error=None,
            input=user_message,
        )

    def with_system_prompt(self, prompt: str) -> AgentState:
        """Ensure the history starts with `prompt` as its system message."""
        if not prompt:
            return self
        if self.messages and self.messages[0].get("role") == "system":
            if self.messages[0].get("content") == prompt:
                return self
            head = {"role": "system", "content": prompt}
            return replace(self, messages=(head, *self.messages[1:]))
        return replace(self, messages=({"role": "system", "content": prompt}, *self.messages))

    @property
    def last_answer(self) -> str | None:
        """The content of the last assistant message with text, if any."""
        for message in reversed(self.messages):
            if message.get("role") == "assistant" and message.get("content"):
                return str(message["content"])
        return None

    def apply(self, event: Event) -> AgentState:
        """The state after `event`."""
        handler = _REDUCERS.get(event.type)
        return handler(self, event.data) if handler else self

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the wire form of a VALUES item)."""
        return {
            "messages": list(self.messages),
            "status": self.status.value,
            "run_id": self.run_id,
            "tenant_id": self.tenant_id,
            "message_id": self.message_id,
            "text": self.text,
            "reasoning": self.reasoning,
            "tool_calls": [t.to_dict() for t in self.tool_calls],
            "usage": self.usage.to_dict(),
            "error": self.error,
            "input": self.input,
        }

    def changes_since(self, old: AgentState) -> dict[str, Any]:
        """The fields that differ from `old`, JSON-serialisable.

        `messages` appear as the messages added since `old` (under `messages_added`).
        """
        if old is self:
            return {}
        out: dict[str, Any] = {}
        new_dict = self.to_dict()
        old_dict = old.to_dict()
        for key, value in new_dict.items():
            if key == "messages":
                if self.messages != old.messages:
                    out["messages_added"] = list(self.messages[len(old.messages) :])
            elif value != old_dict[key]:
                out[key] = value
        return out


#: The name the issue tracker uses for a state value handed out by the agent.
AgentStateSnapshot = AgentState


def history_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """A `MESSAGE_COMPLETE` tool call as the history keeps it (the chat-completions
    shape; the provider's own id, if any, under `provider_id` for the wire)."""
    out: dict[str, Any] = {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": call["arguments"]},
    }
    if call.get("provider_id"):
        out["provider_id"] = call["provider_id"]
    return out


def _update_tool(state: AgentState, call_id: str, **changes: Any) -> tuple[ToolCallState, ...]:
    calls = list(state.tool_calls)
    for i, call in enumerate(calls):
        if call.call_id == call_id:
            calls[i] = replace(call, **changes)
            return tuple(calls)
    name = changes.pop("tool_name", "")
    calls.append(ToolCallState(call_id=call_id, tool_name=name, **changes))
    return tuple(calls)


def _on_state_change(state: AgentState, data: dict[str, Any]) -> AgentState:
    return replace(state, status=AgentStatus(data["new_status"]))


def _on_chunk(state: AgentState, data: dict[str, Any]) -> AgentState:
    if state.message_id != data["message_id"]:
        return replace(state, message_id=data["message_id"], text=data["chunk"], reasoning="")
    return replace(state, text=state.text + data["chunk"])


def _on_reasoning(state: AgentState, data: dict[str, Any]) -> AgentState:
    if state.message_id != data["message_id"]:
        return replace(state, message_id=data["message_id"], text="", reasoning=data["chunk"])
    return replace(state, reasoning=state.reasoning + data["chunk"])


def _on_complete(state: AgentState, data: dict[str, Any]) -> AgentState:
    content: str = data.get("content") or ""
    calls = data.get("tool_calls") or []
    messages = state.messages
    if content or calls:
        message: Message = {
            "role": "assistant",
            "content": content if content or not calls else None,
        }
        if calls:
            message["tool_calls"] = [history_tool_call(c) for c in calls]
        if data.get("reasoning"):
            message["reasoning"] = data["reasoning"]
        finish = data.get("finish_reason")
        if finish in ("cancelled", "error", "length"):
            message["finish_reason"] = finish
        messages = (*messages, message)
    return replace(state, messages=messages, message_id=None, text="", reasoning="")


def _on_args(state: AgentState, data: dict[str, Any]) -> AgentState:
    for call in state.tool_calls:
        if call.call_id == data["call_id"]:
            args = call.arguments if isinstance(call.arguments, str) else ""
            return replace(
                state, tool_calls=_update_tool(state, call.call_id, arguments=args + data["delta"])
            )
    new = ToolCallState(
        call_id=data["call_id"], tool_name=data["tool_name"], arguments=data["delta"]
    )
    return replace(state, tool_calls=(*state.tool_calls, new))


def _on_tool_start(state: AgentState, data: dict[str, Any]) -> AgentState:
    calls = _update_tool(
        state,
        data["call_id"],
        tool_name=data["tool_name"],
        status="running",
        arguments=data["arguments"],
    )
    return replace(state, tool_calls=calls)


def _on_approval(state: AgentState, data: dict[str, Any]) -> AgentState:
    calls = _update_tool(
        state,
        data["call_id"],
        tool_name=data["tool_name"],
        status="awaiting_approval",
        arguments=data["arguments"],
    )
    return replace(state, tool_calls=calls)


def _on_tool_end(state: AgentState, data: dict[str, Any]) -> AgentState:
    error = data.get("error")
    calls = _update_tool(
        state,
        data["call_id"],
        tool_name=data["tool_name"],
        status="error" if error else "done",
        result=data.get("result"),
        error=error,
        duration_ms=data.get("duration_ms"),
    )
    content = f"Error: {error}" if error else _as_text(data.get("result"))
    message: Message = {"role": "tool", "tool_call_id": data["call_id"], "content": content}
    return replace(state, tool_calls=calls, messages=(*state.messages, message))


def _on_usage(state: AgentState, data: dict[str, Any]) -> AgentState:
    step = Usage(
        int(data.get("prompt_tokens") or 0),
        int(data.get("completion_tokens") or 0),
        int(data.get("total_tokens") or 0),
    )
    return replace(state, usage=state.usage + step)


def _on_error(state: AgentState, data: dict[str, Any]) -> AgentState:
    return replace(state, error=str(data.get("error")))


def _on_done(state: AgentState, data: dict[str, Any]) -> AgentState:
    return replace(state, status=DONE_STATUS.get(data.get("status", ""), AgentStatus.FAILED))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


_REDUCERS = {
    EventType.STATE_CHANGE: _on_state_change,
    EventType.MESSAGE_CHUNK: _on_chunk,
    EventType.REASONING_CHUNK: _on_reasoning,
    EventType.MESSAGE_COMPLETE: _on_complete,
    EventType.TOOL_CALL_ARGS: _on_args,
    EventType.TOOL_CALL_START: _on_tool_start,
    EventType.TOOL_APPROVAL_REQUEST: _on_approval,
    EventType.TOOL_CALL_END: _on_tool_end,
    EventType.USAGE: _on_usage,
    EventType.ERROR: _on_error,
    EventType.DONE: _on_done,
}
