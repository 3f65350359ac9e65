"""The event vocabulary every surface renders: `EventType`, `EventMeta`, `Event`.

An `Event` is a frozen value. Its wire form (`to_dict`) is what SSE, WebSocket and
`--json` send::

    {"type": "message_chunk", "data": {...}, "run_id": "...", "tenant_id": "...",
     "seq": 3, "ts": "2026-11-21T21:35:33.123456Z"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = ["MERGEABLE_TYPES", "Event", "EventMeta", "EventType"]


class EventType(StrEnum):
    """What happened. The value is the wire name."""

    STATE_CHANGE = "state_change"  # old_status, new_status
    MESSAGE_CHUNK = "message_chunk"  # chunk, message_id, index
    REASONING_CHUNK = "reasoning_chunk"  # chunk, message_id, index
    MESSAGE_COMPLETE = (
        "message_complete"  # message_id, content, finish_reason (+ reasoning, tool_calls)
    )
    TOOL_CALL_ARGS = "tool_call_args"  # call_id, tool_name, delta
    TOOL_CALL_START = "tool_call_start"  # call_id, tool_name, arguments
    TOOL_CALL_END = "tool_call_end"  # call_id, tool_name, result, error, duration_ms
    USAGE = "usage"  # prompt_tokens, completion_tokens, total_tokens
    TOOL_APPROVAL_REQUEST = "tool_approval_request"  # call_id, tool_name, arguments
    ERROR = "error"  # error, error_type, recoverable
    DONE = "done"  # status, duration_ms, usage


#: Event types whose text may be merged for a slow subscriber, with the data key
#: that names the stream the text belongs to and the key that holds the text.
MERGEABLE_TYPES: dict[EventType, tuple[str, str]] = {
    EventType.MESSAGE_CHUNK: ("message_id", "chunk"),
    EventType.REASONING_CHUNK: ("message_id", "chunk"),
    EventType.TOOL_CALL_ARGS: ("call_id", "delta"),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class EventMeta:
    """Where an event belongs: its run, its tenant (conversation), its place in the run."""

    run_id: str
    tenant_id: str
    seq: int
    timestamp: datetime = field(default_factory=_utcnow)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a run.

    `data` holds the fields listed for the type in DESIGN.md. A `MESSAGE_CHUNK`,
    `REASONING_CHUNK` or `TOOL_CALL_ARGS` event that a slow subscriber received
    merged carries `data["merged"]`: how many consecutive events (by `seq`) it
    stands for, so `seq` + `merged` is the next event's `seq`.
    """

    type: EventType
    data: dict[str, Any]
    meta: EventMeta

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
        merged: int = self.data.get("merged", 1)
        return merged

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serialisable wire form."""
        ts = self.meta.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {
            "type": self.type.value,
            "data": self.data,
            "run_id": self.meta.run_id,
            "tenant_id": self.meta.tenant_id,
            "seq": self.meta.seq,
            "ts": ts,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        """Inverse of `to_dict`; raises `ValueError` on a malformed dict."""
        try:
            event_type = EventType(raw["type"])
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
        return cls(type=event_type, data=dict(data), meta=meta)
