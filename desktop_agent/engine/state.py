"""Agent state as a value: `AgentStatus`, `AgentState`, and how events change it.

`AgentState.apply(event)` is the one definition of what an event does to the
state. The agent keeps its history with it, and any observer that folds the same
events over the same starting state gets the same history, which is how
`StreamMode.VALUES` produces full snapshots from the event stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .events import (
    Done,
    ErrorReport,
    Event,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    ToolApprovalRequest,
    ToolCallArgs,
    ToolCallEnd,
    ToolCallStart,
    UsageReport,
)
from .model import ContentPart, Message, Usage, user_content
from .status import AgentStatus

__all__ = [
    "AgentState",
    "AgentStateSnapshot",
    "AgentStatus",
    "ToolCallState",
    "history_tool_call",
]


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

    def begin_run(
        self,
        run_id: str,
        tenant_id: str,
        user_message: str | None,
        parts: Sequence[ContentPart] = (),
    ) -> AgentState:
        """The state at the start of a run that answers `user_message` (with its
        attachments' content `parts`, if any)."""
        messages = self.messages
        if user_message is not None:
            content = user_content(user_message, parts)
            messages = (*messages, {"role": "user", "content": content})
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
        match event:
            case StateChange():
                return replace(self, status=event.new_status)
            case MessageChunk():
                if self.message_id != event.message_id:
                    return replace(
                        self, message_id=event.message_id, text=event.chunk, reasoning=""
                    )
                return replace(self, text=self.text + event.chunk)
            case ReasoningChunk():
                if self.message_id != event.message_id:
                    return replace(
                        self, message_id=event.message_id, text="", reasoning=event.chunk
                    )
                return replace(self, reasoning=self.reasoning + event.chunk)
            case MessageComplete():
                return _on_complete(self, event)
            case ToolCallArgs():
                return _on_args(self, event)
            case ToolCallStart() | ToolApprovalRequest():
                status = "running" if isinstance(event, ToolCallStart) else "awaiting_approval"
                calls = _update_tool(
                    self,
                    event.call_id,
                    tool_name=event.tool_name,
                    status=status,
                    arguments=event.arguments,
                )
                return replace(self, tool_calls=calls)
            case ToolCallEnd():
                return _on_tool_end(self, event)
            case UsageReport():
                return replace(self, usage=self.usage + event.usage)
            case ErrorReport():
                return replace(self, error=event.error)
            case Done():
                return replace(self, status=event.status.final_status)
        return self

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


def _on_complete(state: AgentState, event: MessageComplete) -> AgentState:
    content = event.content
    calls = event.tool_calls
    messages = state.messages
    if content or calls:
        message: Message = {
            "role": "assistant",
            "content": content if content or not calls else None,
        }
        if calls:
            message["tool_calls"] = [history_tool_call(c.to_dict()) for c in calls]
        if event.reasoning:
            message["reasoning"] = event.reasoning
        if event.finish_reason in ("cancelled", "error", "length"):
            message["finish_reason"] = event.finish_reason
        messages = (*messages, message)
    return replace(state, messages=messages, message_id=None, text="", reasoning="")


def _on_args(state: AgentState, event: ToolCallArgs) -> AgentState:
    for call in state.tool_calls:
        if call.call_id == event.call_id:
            args = call.arguments if isinstance(call.arguments, str) else ""
            return replace(
                state, tool_calls=_update_tool(state, call.call_id, arguments=args + event.delta)
            )
    new = ToolCallState(call_id=event.call_id, tool_name=event.tool_name, arguments=event.delta)
    return replace(state, tool_calls=(*state.tool_calls, new))


def _on_tool_end(state: AgentState, event: ToolCallEnd) -> AgentState:
    calls = _update_tool(
        state,
        event.call_id,
        tool_name=event.tool_name,
        status="error" if event.error else "done",
        result=event.result,
        error=event.error,
        duration_ms=event.duration_ms,
    )
    message: Message = {"role": "tool", "tool_call_id": event.call_id, "content": event.content}
    return replace(state, tool_calls=calls, messages=(*state.messages, message))
