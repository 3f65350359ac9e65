"""The event vocabulary: one dataclass per type, and its wire form (pinned)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from desktop_agent import Event, EventMeta, EventType
from desktop_agent.engine.events import (
    ContextReport,
    Done,
    ErrorReport,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    StateChange,
    ToolApprovalRequest,
    ToolCallArgs,
    ToolCallEnd,
    ToolCallRequest,
    ToolCallStart,
    UsageReport,
    UserMessage,
)
from desktop_agent.engine.model import Usage
from desktop_agent.engine.status import AgentStatus, RunOutcome

META = EventMeta("run_1", "chat_7", 3, datetime(2026, 11, 21, 21, 35, 33, 123456, tzinfo=UTC))

#: One event of every type (and the variants the wire spells differently), with the
#: `data` it must have on the wire. A change to the wire form fails here.
GOLDEN: list[tuple[Event, dict[str, Any]]] = [
    (
        UserMessage("hé", "run_1:user", meta=META),
        {"content": "hé", "message_id": "run_1:user"},
    ),
    (
        StateChange(AgentStatus.IDLE, AgentStatus.THINKING, meta=META),
        {"old_status": "idle", "new_status": "thinking"},
    ),
    (
        MessageChunk("hé", "m", 0, meta=META),
        {"chunk": "hé", "message_id": "m", "index": 0},
    ),
    (
        MessageChunk("abc", "m", 4, merged=3, meta=META),
        {"chunk": "abc", "message_id": "m", "index": 4, "merged": 3},
    ),
    (
        ReasoningChunk("hm", "m", 1, meta=META),
        {"chunk": "hm", "message_id": "m", "index": 1},
    ),
    (
        ReasoningChunk("hmhm", "m", 1, merged=2, meta=META),
        {"chunk": "hmhm", "message_id": "m", "index": 1, "merged": 2},
    ),
    (
        MessageComplete("m", "Hi.", "stop", meta=META),
        {"message_id": "m", "content": "Hi.", "finish_reason": "stop"},
    ),
    (
        MessageComplete(
            "m",
            "",
            "tool_calls",
            "thinking",
            (
                ToolCallRequest("call_1", "add", '{"a": 1}', "prov_1"),
                ToolCallRequest("call_2", "now", "{}"),
            ),
            meta=META,
        ),
        {
            "message_id": "m",
            "content": "",
            "finish_reason": "tool_calls",
            "reasoning": "thinking",
            "tool_calls": [
                {"id": "call_1", "name": "add", "arguments": '{"a": 1}', "provider_id": "prov_1"},
                {"id": "call_2", "name": "now", "arguments": "{}"},
            ],
        },
    ),
    (
        ToolCallArgs("call_1", "add", '{"a"', meta=META),
        {"call_id": "call_1", "tool_name": "add", "delta": '{"a"'},
    ),
    (
        ToolCallArgs("call_1", "add", '{"a": 1}', merged=2, meta=META),
        {"call_id": "call_1", "tool_name": "add", "delta": '{"a": 1}', "merged": 2},
    ),
    (
        ToolApprovalRequest("call_1", "shell", {"command": "ls"}, meta=META),
        {"call_id": "call_1", "tool_name": "shell", "arguments": {"command": "ls"}},
    ),
    (
        ToolCallStart("call_1", "add", {"a": 1, "b": 2}, meta=META),
        {"call_id": "call_1", "tool_name": "add", "arguments": {"a": 1, "b": 2}},
    ),
    (
        ToolCallEnd("call_1", "add", "3", None, 1.5, meta=META),
        {"call_id": "call_1", "tool_name": "add", "result": "3", "error": None, "duration_ms": 1.5},
    ),
    (
        ToolCallEnd("call_1", "add", None, "boom", 0.0, meta=META),
        {
            "call_id": "call_1",
            "tool_name": "add",
            "result": None,
            "error": "boom",
            "duration_ms": 0.0,
        },
    ),
    (
        UsageReport(10, 5, 15, meta=META),
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "estimated": False,
            "first_token_ms": None,
            "tokens_per_second": None,
            "cost": None,
        },
    ),
    (
        UsageReport(10, 5, 15, True, 120.5, 42.0, 0.00015, meta=META),
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "estimated": True,
            "first_token_ms": 120.5,
            "tokens_per_second": 42.0,
            "cost": 0.00015,
        },
    ),
    (
        ContextReport(1500, 2048, 512, "summarise", 7, 12, 3400, "They talked.", True, meta=META),
        {
            "tokens": 1500,
            "window": 2048,
            "reserve": 512,
            "strategy": "summarise",
            "sent": 7,
            "dropped": 12,
            "dropped_tokens": 3400,
            "summary": "They talked.",
            "retry": True,
        },
    ),
    (
        ErrorReport("Timed out.", "timeout", True, meta=META),
        {"error": "Timed out.", "error_type": "timeout", "recoverable": True},
    ),
    (
        Done(RunOutcome.COMPLETED, 12.5, Usage(10, 5, 15), meta=META),
        {
            "status": "completed",
            "duration_ms": 12.5,
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        },
    ),
]


def test_values_match_design() -> None:
    assert {t.value for t in EventType} == {
        "user_message",
        "state_change",
        "message_chunk",
        "reasoning_chunk",
        "message_complete",
        "tool_call_args",
        "tool_call_start",
        "tool_call_end",
        "usage",
        "context",
        "tool_approval_request",
        "error",
        "done",
    }


def test_every_type_has_a_golden_wire_form() -> None:
    assert {event.type for event, _data in GOLDEN} == set(EventType)


@pytest.mark.parametrize(
    ("event", "data"), GOLDEN, ids=[f"{e.type.value}-{i}" for i, (e, _d) in enumerate(GOLDEN)]
)
def test_wire_form_is_pinned_and_round_trips_through_json(
    event: Event, data: dict[str, Any]
) -> None:
    wire = event.to_dict()
    assert wire == {
        "type": event.type.value,
        "data": data,
        "run_id": "run_1",
        "tenant_id": "chat_7",
        "seq": 3,
        "ts": "2026-11-21T21:35:33.123456Z",
    }
    # Plain JSON types only (no enums or dataclasses leak onto the wire).
    text = json.dumps(wire, ensure_ascii=False)
    assert json.loads(text) == wire
    back = Event.from_dict(json.loads(text))
    assert type(back) is type(event)
    assert back == event
    assert type(event).from_dict(json.loads(text)) == event


def test_from_dict_of_a_subclass_refuses_another_type() -> None:
    wire = Done(RunOutcome.FAILED, 1.0, meta=META).to_dict()
    with pytest.raises(ValueError, match="not a MessageChunk"):
        MessageChunk.from_dict(wire)


def test_events_match_on_their_class() -> None:
    event: Event = StateChange(AgentStatus.THINKING, AgentStatus.STREAMING, meta=META)
    match event:
        case StateChange(new_status=AgentStatus.STREAMING):
            matched = True
        case _:
            matched = False
    assert matched
    assert event.run_id == "run_1" and event.seq == 3 and event.span == 1
    assert MessageChunk("ab", "m", 0, merged=2, meta=META).span == 2


def test_done_status_maps_to_the_final_agent_status() -> None:
    assert {o: o.final_status for o in RunOutcome} == {
        RunOutcome.COMPLETED: AgentStatus.DONE,
        RunOutcome.CANCELLED: AgentStatus.CANCELLED,
        RunOutcome.FAILED: AgentStatus.FAILED,
    }


def test_tool_call_end_content_is_what_the_history_keeps() -> None:
    assert ToolCallEnd("c", "t", "3", None, 1.0, meta=META).content == "3"
    assert ToolCallEnd("c", "t", None, "boom", 1.0, meta=META).content == "Error: boom"
    assert ToolCallEnd("c", "t", None, None, 1.0, meta=META).content == ""


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
    assert Done(RunOutcome.COMPLETED, 0.0, meta=meta).to_dict()["ts"].endswith("Z")
