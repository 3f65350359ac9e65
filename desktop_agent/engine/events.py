"""The event vocabulary every surface renders: one frozen dataclass per `EventType`.

In code an event is a value of its own class (`MessageChunk`, `ToolCallEnd`, ...),
all subclasses of `Event`, so readers match on types::

    match event:
        case MessageChunk(chunk=text): ...
        case Done(status=outcome): ...

The dict form exists only at the wire (`to_dict` / `Event.from_dict`), which is
what SSE, WebSocket and `--json` send::

    {"type": "message_chunk", "data": {...}, "run_id": "...", "tenant_id": "...",
     "seq": 3, "ts": "2026-11-21T21:35:33.123456Z"}
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from .model import Usage
from .status import AgentStatus, RunOutcome
from .text import scrub

__all__ = [
    "ContextReport",
    "Done",
    "ErrorReport",
    "Event",
    "EventMeta",
    "EventType",
    "MessageChunk",
    "MessageComplete",
    "ReasoningChunk",
    "StateChange",
    "TextEvent",
    "ToolApprovalRequest",
    "ToolCallArgs",
    "ToolCallEnd",
    "ToolCallRequest",
    "ToolCallStart",
    "UsageReport",
    "UserMessage",
    "result_text",
    "user_message_id",
]


class EventType(StrEnum):
    """What happened. The value is the wire name."""

    USER_MESSAGE = "user_message"
    STATE_CHANGE = "state_change"
    MESSAGE_CHUNK = "message_chunk"
    REASONING_CHUNK = "reasoning_chunk"
    MESSAGE_COMPLETE = "message_complete"
    TOOL_CALL_ARGS = "tool_call_args"
    TOOL_CALL_START = "tool_call_start"
    TOOL_CALL_END = "tool_call_end"
    USAGE = "usage"
    CONTEXT = "context"
    TOOL_APPROVAL_REQUEST = "tool_approval_request"
    ERROR = "error"
    DONE = "done"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def user_message_id(run_id: str) -> str:
    """The id of the user message a run answers (`UserMessage.message_id`)."""
    return f"{run_id}:user"


def result_text(value: Any) -> str:
    """A tool's result as the text the history keeps (JSON for anything not text;
    lone surrogates — a file name's undecodable byte — as U+FFFD)."""
    if isinstance(value, str):
        return scrub(value)
    if value is None:
        return ""
    try:
        return scrub(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return scrub(str(value))


@dataclass(frozen=True, slots=True)
class EventMeta:
    """Where an event belongs: its run, its tenant (conversation), its place in the run."""

    run_id: str
    tenant_id: str
    seq: int
    timestamp: datetime = field(default_factory=_utcnow)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a run (the base of every event class)."""

    type: ClassVar[EventType]
    meta: EventMeta = field(kw_only=True)

    @property
    def run_id(self) -> str:
        return self.meta.run_id

    @property
    def tenant_id(self) -> str:
        return self.meta.tenant_id

    @property
    def seq(self) -> int:
        return self.meta.seq

    @property
    def span(self) -> int:
        """How many of the run's events this one stands for (1 unless merged)."""
        return 1

    # -- the wire -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable wire form."""
        ts = self.meta.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {
            "type": self.type.value,
            "data": self._wire_data(),
            "run_id": self.meta.run_id,
            "tenant_id": self.meta.tenant_id,
            "seq": self.meta.seq,
            "ts": ts,
        }

    def _wire_data(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _wire_fields(type(self))}

    @classmethod
    def _from_data(cls, data: dict[str, Any], meta: EventMeta) -> Self:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "meta":
                continue
            if f.name in data:
                kwargs[f.name] = data[f.name]
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"not an event: {cls.type.value} without {f.name!r}")
        return cls(**kwargs, meta=meta)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        """Inverse of `to_dict`: the event of the class its `type` names; raises
        `ValueError` on a malformed dict."""
        try:
            event_class = _CLASSES[EventType(raw["type"])]
            ts_text = str(raw["ts"])
            if ts_text.endswith("Z"):
                ts_text = ts_text[:-1] + "+00:00"
            meta = EventMeta(
                run_id=str(raw["run_id"]),
                tenant_id=str(raw["tenant_id"]),
                seq=int(raw["seq"]),
                timestamp=datetime.fromisoformat(ts_text),
            )
            data = raw["data"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an event: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("not an event: 'data' must be an object")
        if not issubclass(event_class, cls):
            raise ValueError(f"not a {cls.__name__}: {event_class.type.value}")
        try:
            return event_class._from_data(data, meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an event: {exc}") from exc


_WIRE_FIELDS: dict[type[Event], tuple[str, ...]] = {}


def _wire_fields(cls: type[Event]) -> tuple[str, ...]:
    names = _WIRE_FIELDS.get(cls)
    if names is None:
        names = _WIRE_FIELDS[cls] = tuple(
            f.name for f in fields(cls) if f.name not in ("meta", "merged")
        )
    return names


@dataclass(frozen=True, slots=True)
class UserMessage(Event):
    """The user's message a run answers: a run's first event (none for a run that
    answers the history as it stands). `message_id` is the id it is stored under."""

    type: ClassVar[EventType] = EventType.USER_MESSAGE
    content: str
    message_id: str
    #: What is attached (name, kind, mime, size, sha256 of each; the bytes are not in
    #: events).
    attachments: tuple[dict[str, Any], ...] = ()

    def _wire_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"content": self.content, "message_id": self.message_id}
        if self.attachments:
            data["attachments"] = [dict(a) for a in self.attachments]
        return data

    @classmethod
    def _from_data(cls, data: dict[str, Any], meta: EventMeta) -> Self:
        raw = data.get("attachments") or ()
        if not isinstance(raw, list | tuple) or not all(isinstance(a, dict) for a in raw):
            raise ValueError("not an event: attachments must be a list of objects")
        return cls(str(data["content"]), str(data["message_id"]), tuple(raw), meta=meta)


@dataclass(frozen=True, slots=True)
class StateChange(Event):
    type: ClassVar[EventType] = EventType.STATE_CHANGE
    old_status: AgentStatus
    new_status: AgentStatus

    def _wire_data(self) -> dict[str, Any]:
        return {"old_status": self.old_status.value, "new_status": self.new_status.value}

    @classmethod
    def _from_data(cls, data: dict[str, Any], meta: EventMeta) -> Self:
        return cls(AgentStatus(data["old_status"]), AgentStatus(data["new_status"]), meta=meta)


@dataclass(frozen=True, slots=True)
class TextEvent(Event):
    """A piece of streamed text. A slow subscriber may get several consecutive
    pieces of one stream (`stream_key`) merged into one: `merged` says how many
    events (by `seq`) it stands for, so `seq` + `merged` is the next event's `seq`."""

    merged: int = field(default=1, kw_only=True)

    @property
    def span(self) -> int:
        return self.merged

    @property
    def text(self) -> str:
        raise NotImplementedError

    @property
    def stream_key(self) -> str:
        """Which stream the text belongs to (a message, a tool call)."""
        raise NotImplementedError

    def with_text(self, text: str, merged: int) -> Self:
        """This event standing for `merged` events whose text is `text`."""
        raise NotImplementedError

    def _wire_data(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _wire_fields(type(self))}
        if self.merged != 1:
            data["merged"] = self.merged
        return data


@dataclass(frozen=True, slots=True)
class _MessageText(TextEvent):
    """A piece of a message's answer or reasoning: `index` counts its pieces."""

    chunk: str
    message_id: str
    index: int

    @property
    def text(self) -> str:
        return self.chunk

    @property
    def stream_key(self) -> str:
        return self.message_id

    def with_text(self, text: str, merged: int) -> Self:
        return replace(self, chunk=text, merged=merged)


@dataclass(frozen=True, slots=True)
class MessageChunk(_MessageText):
    type: ClassVar[EventType] = EventType.MESSAGE_CHUNK


@dataclass(frozen=True, slots=True)
class ReasoningChunk(_MessageText):
    type: ClassVar[EventType] = EventType.REASONING_CHUNK


@dataclass(frozen=True, slots=True)
class ToolCallArgs(TextEvent):
    type: ClassVar[EventType] = EventType.TOOL_CALL_ARGS
    call_id: str
    tool_name: str
    delta: str

    @property
    def text(self) -> str:
        return self.delta

    @property
    def stream_key(self) -> str:
        return self.call_id

    def with_text(self, text: str, merged: int) -> Self:
        return replace(self, delta=text, merged=merged)


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call the model asked for (in `MessageComplete.tool_calls`).

    `id` is the app's own id; `provider_id` the provider's, kept only for the
    wire back to that provider."""

    id: str
    name: str
    arguments: str
    provider_id: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"id": self.id, "name": self.name, "arguments": self.arguments}
        if self.provider_id:
            out["provider_id"] = self.provider_id
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ToolCallRequest:
        return cls(str(raw["id"]), str(raw["name"]), str(raw["arguments"]), raw.get("provider_id"))


@dataclass(frozen=True, slots=True)
class MessageComplete(Event):
    """An assistant message is complete. `content` is its chunks joined;
    `finish_reason` is the model's (`stop`, `length`, `tool_calls`) or `cancelled`
    / `error` for a message a stop or a failure cut short. On the wire `reasoning`
    and `tool_calls` appear only when there are any."""

    type: ClassVar[EventType] = EventType.MESSAGE_COMPLETE
    message_id: str
    content: str
    finish_reason: str
    reasoning: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()

    def _wire_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "content": self.content,
            "finish_reason": self.finish_reason,
        }
        if self.reasoning:
            data["reasoning"] = self.reasoning
        if self.tool_calls:
            data["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        return data

    @classmethod
    def _from_data(cls, data: dict[str, Any], meta: EventMeta) -> Self:
        return cls(
            data["message_id"],
            data.get("content") or "",
            data["finish_reason"],
            data.get("reasoning") or "",
            tuple(ToolCallRequest.from_dict(c) for c in data.get("tool_calls") or ()),
            meta=meta,
        )


@dataclass(frozen=True, slots=True)
class ToolApprovalRequest(Event):
    """The run waits for the user's answer before it runs the call."""

    type: ClassVar[EventType] = EventType.TOOL_APPROVAL_REQUEST
    call_id: str
    tool_name: str
    arguments: Any


@dataclass(frozen=True, slots=True)
class ToolCallStart(Event):
    """A call begins. `ran_by` is "" for a call the app runs, "agent" for one a
    remote agent (AG-UI) already ran (on the wire only when set)."""

    type: ClassVar[EventType] = EventType.TOOL_CALL_START
    call_id: str
    tool_name: str
    arguments: Any
    ran_by: str = ""

    def _wire_data(self) -> dict[str, Any]:
        data = {"call_id": self.call_id, "tool_name": self.tool_name, "arguments": self.arguments}
        if self.ran_by:
            data["ran_by"] = self.ran_by
        return data


@dataclass(frozen=True, slots=True)
class ToolCallEnd(Event):
    type: ClassVar[EventType] = EventType.TOOL_CALL_END
    call_id: str
    tool_name: str
    result: str | None
    error: str | None
    duration_ms: float

    @property
    def content(self) -> str:
        """What the history keeps for the call: its result, or "Error: ..."."""
        return f"Error: {self.error}" if self.error else result_text(self.result)


@dataclass(frozen=True, slots=True)
class UsageReport(Event):
    """Tokens one model request used, and how fast the answer came.

    `estimated`: the endpoint reported no usage, the app counted it. `first_token_ms`:
    from sending the request to the first piece of the answer; `tokens_per_second`:
    output tokens over the time they streamed; `cost`: in US dollars, where prices are
    known (None otherwise).
    """

    type: ClassVar[EventType] = EventType.USAGE
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool = False
    first_token_ms: float | None = None
    tokens_per_second: float | None = None
    cost: float | None = None

    @property
    def usage(self) -> Usage:
        return Usage(self.prompt_tokens, self.completion_tokens, self.total_tokens)


@dataclass(frozen=True, slots=True)
class ContextReport(Event):
    """What one model request sends, fitted into the model's context (before it is sent).

    `tokens` of `window` (None: unknown) are used, `reserve` kept for the answer;
    `sent` messages go on the wire; `dropped` older messages of the history (`dropped_tokens`)
    were left out, replaced by `summary` when the model summarised them; `retry`: fitted
    harder after the server said the request was too long.
    """

    type: ClassVar[EventType] = EventType.CONTEXT
    tokens: int
    window: int | None
    reserve: int
    strategy: str
    sent: int
    dropped: int = 0
    dropped_tokens: int = 0
    summary: str | None = None
    retry: bool = False


@dataclass(frozen=True, slots=True)
class ErrorReport(Event):
    """Why the run failed (always before its `Done`), or a recoverable problem."""

    type: ClassVar[EventType] = EventType.ERROR
    error: str
    error_type: str
    recoverable: bool


@dataclass(frozen=True, slots=True)
class Done(Event):
    """The run's last event: how it ended, how long it took, what it used."""

    type: ClassVar[EventType] = EventType.DONE
    status: RunOutcome
    duration_ms: float
    usage: Usage = field(default_factory=Usage)

    def _wire_data(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "duration_ms": self.duration_ms,
            "usage": self.usage.to_dict(),
        }

    @classmethod
    def _from_data(cls, data: dict[str, Any], meta: EventMeta) -> Self:
        raw_usage = data.get("usage") or {}
        usage = Usage(
            int(raw_usage.get("prompt_tokens") or 0),
            int(raw_usage.get("completion_tokens") or 0),
            int(raw_usage.get("total_tokens") or 0),
        )
        return cls(RunOutcome(data["status"]), data["duration_ms"], usage, meta=meta)


_CLASSES: dict[EventType, type[Event]] = {
    cls.type: cls
    for cls in (
        UserMessage,
        StateChange,
        MessageChunk,
        ReasoningChunk,
        MessageComplete,
        ToolCallArgs,
        ToolCallStart,
        ToolCallEnd,
        UsageReport,
        ContextReport,
        ToolApprovalRequest,
        ErrorReport,
        Done,
    )
}
