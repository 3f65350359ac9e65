"""A run you hold: `RunHandle` from `Orchestrator.submit()` and `Agent.start()`.

Also issue 12's findings on the engine side: provider call ids are not trusted,
and a configuration change never takes a running run out of the user's hands.
"""

from __future__ import annotations

import asyncio

import pytest

from desktop_agent import Agent, AgentStatus, EventType, Orchestrator, StreamMode, tool
from desktop_agent.engine.events import Event
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from tests.support.clock import until as wait_until
from tests.support.contract import check_run, provider_ids

written: list[str] = []


@tool("Write a file", side_effects=True)
def write_file(path: str) -> str:
    written.append(path)
    return f"wrote {path}"


@pytest.fixture(autouse=True)
def clear() -> None:
    written.clear()


async def until(events: list[Event], kind: EventType, count: int = 1) -> list[Event]:
    """Wait (bounded) until `count` events of `kind` arrived; returns them."""

    def found() -> list[Event]:
        return [e for e in events if e.type is kind]

    await wait_until(
        lambda: len(found()) >= count, f"{count} x {kind} in {[e.type.value for e in events]}"
    )
    return found()


async def collect(handle_events: object, into: list[Event]) -> None:
    async for item in handle_events:  # type: ignore[attr-defined]
        into.append(item)


def watch(orchestrator: Orchestrator, text: str, tenant: str = "t") -> tuple[object, list[Event]]:
    handle = orchestrator.submit(text, tenant_id=tenant)
    events: list[Event] = []
    asyncio.get_running_loop().create_task(collect(handle.events(), events))
    return handle, events


async def test_handle_lifecycle_events_approve_wait() -> None:
    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("write_file", {"path": "a"})]), "ok"])
    orchestrator = Orchestrator(model, tools=[write_file])
    handle = orchestrator.submit("write a", tenant_id="t")
    assert not handle.started  # queued until the loop runs it
    events: list[Event] = []
    task = asyncio.create_task(collect(handle.events(), events))
    [request] = await until(events, EventType.TOOL_APPROVAL_REQUEST)
    assert handle.started and not handle.done
    assert orchestrator.runs("t") == [handle]
    with pytest.raises(RuntimeError, match="already published"):
        handle.events()  # too late to watch from the start
    assert not handle.approve("no-such-call", "allow")
    assert handle.approve(request.call_id, "allow")
    state = await handle.wait()
    await task
    check_run(events)
    assert state.status is AgentStatus.DONE and written == ["a"]
    assert handle.done and orchestrator.runs("t") == []
    assert not handle.cancel()


async def test_values_mode_from_the_handle() -> None:
    orchestrator = Orchestrator(ScriptedModel(["Hello there."]))
    handle = orchestrator.submit("hi", tenant_id="t")
    values = [v async for v in handle.events(StreamMode.VALUES)]
    assert values[0].messages[-1] == {"role": "user", "content": "hi"}  # type: ignore[union-attr]
    assert values[-1].last_answer == "Hello there."  # type: ignore[union-attr]


async def test_a_watcher_leaving_does_not_stop_the_run() -> None:
    orchestrator = Orchestrator(ScriptedModel([Turn(text="x" * 40, chunk_size=1)]))
    handle = orchestrator.submit("talk", tenant_id="t")
    async for event in handle.events():
        if event.type is EventType.MESSAGE_CHUNK:  # type: ignore[union-attr]
            break
    state = await handle.wait()
    assert state.status is AgentStatus.DONE and state.last_answer == "x" * 40


@pytest.mark.virtual_clock
async def test_cancel_a_queued_run_gives_its_watchers_one_done() -> None:
    model = ScriptedModel([Turn(text="slow " * 20, chunk_size=1, delay=0.005), "never"])
    orchestrator = Orchestrator(model)
    first = orchestrator.submit("one", tenant_id="t")
    second = orchestrator.submit("two", tenant_id="t")
    events = [e async for e in _cancel_then_watch(second)]
    assert [e.type for e in events] == [EventType.DONE]  # type: ignore[union-attr]
    assert events[0].status == "cancelled"  # type: ignore[union-attr]
    assert (await first.wait()).status is AgentStatus.DONE


async def _cancel_then_watch(handle: object):  # type: ignore[no-untyped-def]
    stream = handle.events()  # type: ignore[attr-defined]
    assert handle.cancel()  # type: ignore[attr-defined]
    async for event in stream:
        yield event


async def test_agent_start_gives_a_handle_too() -> None:
    agent = Agent(model=ScriptedModel([Turn(text="abc" * 30, chunk_size=1, delay=0.002)]))
    handle = agent.start("talk")
    events = []
    async for event in handle.events():
        events.append(event)
        if event.type is EventType.MESSAGE_CHUNK:  # type: ignore[union-attr]
            assert handle.cancel()
    check_run(events)  # type: ignore[arg-type]
    assert (await handle.wait()).status is AgentStatus.CANCELLED


# -- issue 12: provider call ids are not trusted ------------------------------------


async def test_duplicate_provider_ids_in_one_step_are_two_calls() -> None:
    """Two calls with the same provider id `call_0`: approving the first card wrote
    the second file, and the run then hung forever. Each call now has its own id."""
    calls = [
        ScriptedToolCall("write_file", {"path": "benign.txt"}, id="call_0"),
        ScriptedToolCall("write_file", {"path": "evil.txt"}, id="call_0"),
    ]
    model = ScriptedModel([Turn(tool_calls=calls), "done"])
    orchestrator = Orchestrator(model, tools=[write_file])
    handle, events = watch(orchestrator, "write")
    requests = await until(events, EventType.TOOL_APPROVAL_REQUEST, 2)
    by_path = {r.arguments["path"]: r.call_id for r in requests}
    assert len(set(by_path.values())) == 2
    assert orchestrator.approve(by_path["benign.txt"], "allow", tenant_id="t")
    await until(events, EventType.TOOL_CALL_END)
    assert written == ["benign.txt"]  # exactly the call that was approved
    assert orchestrator.approve(by_path["evil.txt"], "deny", tenant_id="t")
    state = await asyncio.wait_for(handle.wait(), 10)  # type: ignore[attr-defined]
    assert state.status is AgentStatus.DONE and written == ["benign.txt"]
    assert set(provider_ids(events).values()) == {"call_0"}
    # The history pairs each call with its own result.
    tool_ids = [m["tool_call_id"] for m in state.messages if m["role"] == "tool"]
    assert sorted(tool_ids) == sorted(by_path.values())


async def test_hostile_provider_ids_never_become_app_ids() -> None:
    hostile = ["call_A?always#", 'x"><a href="approve:1">', "call_A", ""]
    calls = [ScriptedToolCall("write_file", {"path": str(i)}, id=h) for i, h in enumerate(hostile)]
    orchestrator = Orchestrator(ScriptedModel([Turn(tool_calls=calls), "ok"]), tools=[write_file])
    handle, events = watch(orchestrator, "go")
    requests = await until(events, EventType.TOOL_APPROVAL_REQUEST, len(hostile))
    for request in requests:
        call_id = request.call_id
        assert call_id.startswith("call_") and call_id[5:].isalnum(), call_id
        assert orchestrator.approve(call_id, "deny", tenant_id="t")
    await handle.wait()  # type: ignore[attr-defined]


# -- issue 12: configuration changed mid-run ----------------------------------------


async def test_configuration_changed_mid_run_keeps_the_run_controllable() -> None:
    """Settings → Save reconfigured every conversation: the running one could no
    longer be approved, cancel() returned True while it went on, and closing hung."""
    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("write_file", {"path": "a"})]), "ok"])
    orchestrator = Orchestrator(model, tools=[write_file])
    handle, events = watch(orchestrator, "write a")
    [request] = await until(events, EventType.TOOL_APPROVAL_REQUEST)
    # What Settings → Save does: new model and prompt for the conversation, new tools.
    other = ScriptedModel(["from the new model"])
    orchestrator.configure("t", model=other, system_prompt="new prompt")
    orchestrator.set_tools([write_file])
    orchestrator.model = other
    assert orchestrator.approve(request.call_id, "allow", tenant_id="t")
    state = await asyncio.wait_for(handle.wait(), 10)  # type: ignore[attr-defined]
    assert state.status is AgentStatus.DONE and written == ["a"]
    assert state.last_answer == "ok"  # the run kept the model it started with
    # The next run takes the new configuration.
    state = await orchestrator.submit("again", tenant_id="t").wait()
    assert state.last_answer == "from the new model"
    assert other.requests[0][0] == {"role": "system", "content": "new prompt"}


async def test_cancel_after_reconfiguring_really_stops_the_run() -> None:
    model = ScriptedModel([Turn(text="word " * 400, chunk_size=1, delay=0.002)])
    orchestrator = Orchestrator(model)
    handle, events = watch(orchestrator, "talk")
    await until(events, EventType.MESSAGE_CHUNK)
    orchestrator.configure("t", model=ScriptedModel(["x"]))
    assert orchestrator.cancel("t")
    state = await asyncio.wait_for(handle.wait(), 10)  # type: ignore[attr-defined]
    assert state.status is AgentStatus.CANCELLED
    assert not orchestrator.cancel("t")  # nothing left running


async def test_closing_never_waits_on_an_unanswered_approval() -> None:
    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("write_file", {"path": "a"})])])
    orchestrator = Orchestrator(model, tools=[write_file])
    handle, events = watch(orchestrator, "write a")
    await until(events, EventType.TOOL_APPROVAL_REQUEST)
    orchestrator.configure("t", model=ScriptedModel(["x"]), system_prompt="p")
    await asyncio.wait_for(orchestrator.aclose(), 10)
    state = await handle.wait()  # type: ignore[attr-defined]
    assert state.status is AgentStatus.CANCELLED and written == []
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    assert end.error == "cancelled while waiting for approval"


def test_approve_must_say_which_run_or_conversation() -> None:
    orchestrator = Orchestrator(ScriptedModel([]))
    with pytest.raises(ValueError, match="run_id or the tenant_id"):
        orchestrator.approve("call_x", "allow")
