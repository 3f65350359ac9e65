"""The event vocabulary and its wire form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from desktop_agent import Event, EventMeta, EventType


def test_values_match_design() -> None:
    assert {t.value for t in EventType} == {
        "state_change",
        "message_chunk",
        "reasoning_chunk",
        "message_complete",
        "tool_call_args",
        "tool_call_start",
        "tool_call_end",
        "usage",
        "tool_approval_request",
        "error",
        "done",
    }


def test_wire_form_round_trips_through_json() -> None:
    meta = EventMeta("run_1", "chat_7", 3, datetime(2026, 11, 21, 21, 35, 33, 123456, tzinfo=UTC))
    event = Event(EventType.MESSAGE_CHUNK, {"chunk": "hé", "message_id": "m", "index": 0}, meta)
    wire = event.to_dict()
    assert wire == {
        "type": "message_chunk",
        "data": {"chunk": "hé", "message_id": "m", "index": 0},
        "run_id": "run_1",
        "tenant_id": "chat_7",
        "seq": 3,
        "ts": "2026-11-21T21:35:33.123456Z",
    }
    assert Event.from_dict(json.loads(json.dumps(wire))) == event


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {
            "type": "nope",
            "data": {},
            "run_id": "r",
            "tenant_id": "t",
            "seq": 0,
            "ts": "2026-01-01T00:00:00Z",
        },
        {
            "type": "done",
            "data": [],
            "run_id": "r",
            "tenant_id": "t",
            "seq": 0,
            "ts": "2026-01-01T00:00:00Z",
        },
        {
            "type": "done",
            "data": {},
            "run_id": "r",
            "tenant_id": "t",
            "seq": "x",
            "ts": "2026-01-01T00:00:00Z",
        },
        {"type": "done", "data": {}, "run_id": "r", "tenant_id": "t", "seq": 0, "ts": "yesterday"},
    ],
)
def test_from_dict_rejects_malformed(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="not an event"):
        Event.from_dict(raw)


def test_default_timestamp_is_utc() -> None:
    meta = EventMeta("r", "t", 0)
    assert meta.timestamp.tzinfo is UTC
    assert Event(EventType.DONE, {}, meta).to_dict()["ts"].endswith("Z")
