"""Approval before tools with side effects, through the engine API."""

from __future__ import annotations

import asyncio

import pytest

from desktop_agent import Approvals, EventType, Orchestrator, Timeouts, tool
from desktop_agent.engine.events import Event
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from tests.support.clock import elapse, until
from tests.support.contract import app_id, check_run

written: list[str] = []


@tool("Write a note", side_effects=True)
def write_note(text: str) -> str:
    written.append(text)
    return f"saved {text!r}"


@tool("Read the clock")
def clock() -> str:
    return "12:00"


def calls_then(answer: str, *calls: ScriptedToolCall) -> list[Turn | str]:
    return [Turn(tool_calls=list(calls)), answer]


async def run_until_request(
    orchestrator: Orchestrator, text: str, tenant: str = "t"
) -> tuple[object, list[Event], asyncio.Task[None]]:
    events: list[Event] = []
    sub = orchestrator.dispatcher.subscribe(tenant_id=tenant)

    async def collect() -> None:
        async for event in sub:
            events.append(event)
            if event.type is EventType.DONE:
                return

    task = asyncio.create_task(collect())
    handle = orchestrator.submit(text, tenant_id=tenant)
    await until(
        lambda: any(e.type is EventType.TOOL_APPROVAL_REQUEST for e in events),
        "the approval request",
    )
    return handle, events, task


@pytest.fixture(autouse=True)
def clear_notes() -> None:
    written.clear()


async def test_allow_once_runs_the_tool_and_asks_again_next_time() -> None:
    model = ScriptedModel(
        calls_then("Saved.", ScriptedToolCall("write_note", {"text": "a"}, id="c1"))
        + calls_then("Saved again.", ScriptedToolCall("write_note", {"text": "b"}, id="c2"))
    )
    orchestrator = Orchestrator(model, tools=[write_note])
    handle, events, task = await run_until_request(orchestrator, "note a")
    request = next(e for e in events if e.type is EventType.TOOL_APPROVAL_REQUEST)
    assert request.to_dict()["data"] == {
        "call_id": app_id(events, "c1"),
        "tool_name": "write_note",
        "arguments": {"text": "a"},
    }
    assert written == []  # nothing ran before the answer
    statuses = [e.new_status for e in events if e.type is EventType.STATE_CHANGE]
    assert statuses[-1] == "awaiting_approval"
    assert orchestrator.approve(app_id(events, "c1"), "allow", tenant_id="t")
    assert not orchestrator.approve(
        app_id(events, "c1"), "allow", tenant_id="t"
    )  # answered already
    await handle.wait()  # type: ignore[attr-defined]
    await task
    check_run(events)
    assert written == ["a"]
    kinds = [e.type for e in events]
    assert kinds.index(EventType.TOOL_APPROVAL_REQUEST) < kinds.index(EventType.TOOL_CALL_START)
    statuses = [e.new_status for e in events if e.type is EventType.STATE_CHANGE]
    assert "awaiting_approval" in statuses and statuses[-1] == "done"

    handle, events, task = await run_until_request(orchestrator, "note b")
    assert any(e.type is EventType.TOOL_APPROVAL_REQUEST for e in events)  # asked again
    orchestrator.approve(app_id(events, "c2"), "allow", tenant_id="t")
    await handle.wait()  # type: ignore[attr-defined]
    await task


async def test_always_allows_from_then_on_and_can_be_revoked() -> None:
    remembered: list[frozenset[str]] = []
    approvals = Approvals(on_change=remembered.append)
    model = ScriptedModel(
        calls_then("1", ScriptedToolCall("write_note", {"text": "a"}, id="c1"))
        + calls_then("2", ScriptedToolCall("write_note", {"text": "b"}, id="c2"))
        + calls_then("3", ScriptedToolCall("write_note", {"text": "c"}, id="c3"))
    )
    orchestrator = Orchestrator(model, tools=[write_note], approvals=approvals)
    handle, events, task = await run_until_request(orchestrator, "a")
    orchestrator.approve(app_id(events, "c1"), "always", tenant_id="t")
    await handle.wait()  # type: ignore[attr-defined]
    await task
    assert remembered == [frozenset({"write_note"})]  # for the caller to persist
    state = await orchestrator.submit("b", tenant_id="t").wait()  # no question asked
    assert written == ["a", "b"] and state.status == "done"
    approvals.revoke("write_note")
    assert remembered[-1] == frozenset()
    handle, events, task = await run_until_request(orchestrator, "c")
    assert any(e.type is EventType.TOOL_APPROVAL_REQUEST for e in events)
    orchestrator.approve(app_id(events, "c3"), "deny", tenant_id="t")
    await handle.wait()  # type: ignore[attr-defined]
    await task


async def test_deny_goes_back_to_the_model_as_the_result() -> None:
    model = ScriptedModel(
        calls_then(
            "Understood, I did not save it.",
            ScriptedToolCall("write_note", {"text": "secret"}, id="c1"),
            ScriptedToolCall("clock", {}, id="c2"),  # no side effects: runs at once
        )
    )
    orchestrator = Orchestrator(model, tools=[write_note, clock])
    handle, events, task = await run_until_request(orchestrator, "save it")
    denied = app_id(events, "c1")
    orchestrator.approve(denied, "deny", tenant_id="t")
    state = await handle.wait()  # type: ignore[attr-defined]
    await task
    check_run(events)
    assert written == []
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END and e.call_id == denied)
    assert end.error == "the user denied this tool call"
    assert not any(e.type is EventType.TOOL_CALL_START and e.call_id == denied for e in events)
    tool_results = {
        m["tool_call_id"]: m["content"] for m in model.requests[1] if m["role"] == "tool"
    }
    assert tool_results == {
        denied: "Error: the user denied this tool call",
        app_id(events, "c2"): "12:00",
    }
    assert state.status == "done"


async def test_cancel_while_waiting_closes_the_call_and_the_history_stays_valid() -> None:
    model = ScriptedModel(
        [*calls_then("never", ScriptedToolCall("write_note", {"text": "x"}, id="c1")), "Next."]
    )
    orchestrator = Orchestrator(model, tools=[write_note])
    handle, events, task = await run_until_request(orchestrator, "save")
    assert orchestrator.cancel("t")
    state = await handle.wait()  # type: ignore[attr-defined]
    await task
    check_run(events)
    assert state.status == "cancelled" and written == []
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    assert end.error == "cancelled while waiting for approval"
    assert not orchestrator.approve(app_id(events, "c1"), "allow", tenant_id="t")  # too late
    # Every tool call in the history has its result: the next request is valid.
    history = orchestrator.messages("t")
    tool_call_ids = [m.get("tool_call_id") for m in history if m["role"] == "tool"]
    assert tool_call_ids == [app_id(events, "c1")]
    await orchestrator.submit("go on", tenant_id="t").wait()
    assert model.requests[-1][-1] == {"role": "user", "content": "go on"}


@pytest.mark.virtual_clock
async def test_timeouts_do_not_fire_while_waiting() -> None:
    model = ScriptedModel(
        calls_then("Done.", ScriptedToolCall("write_note", {"text": "x"}, id="c1"))
    )
    orchestrator = Orchestrator(
        model, tools=[write_note], timeouts=Timeouts(total=30, tool=20, idle=20, first_token=20)
    )
    handle, events, task = await run_until_request(orchestrator, "save")
    await elapse(60)  # longer than every limit (virtual time: no wait)
    assert orchestrator.approve(app_id(events, "c1"), "allow", tenant_id="t")
    state = await handle.wait()  # type: ignore[attr-defined]
    await task
    assert state.status == "done" and written == ["x"]


async def test_a_bad_decision_is_refused() -> None:
    model = ScriptedModel(calls_then("x", ScriptedToolCall("write_note", {"text": "x"}, id="c1")))
    orchestrator = Orchestrator(model, tools=[write_note])
    handle, events, task = await run_until_request(orchestrator, "save")
    with pytest.raises(ValueError, match="decision must be one of"):
        orchestrator.approve(app_id(events, "c1"), "maybe", tenant_id="t")
    orchestrator.approve(app_id(events, "c1"), "deny", tenant_id="t")
    await handle.wait()  # type: ignore[attr-defined]
    await task
