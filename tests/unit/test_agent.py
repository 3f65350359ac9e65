"""The agent loop over a ScriptedModel: contract, tools, limits, cancel, retries."""

from __future__ import annotations

import asyncio
import threading

import pytest

from desktop_agent import (
    Agent,
    AgentState,
    AgentStatus,
    Event,
    EventType,
    ModelConnectionError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamEngine,
    StreamMode,
    Timeouts,
    tool,
)
from desktop_agent.engine.events import ToolCallEnd, ToolCallStart, UserMessage
from desktop_agent.engine.model import AuthenticationError
from desktop_agent.engine.stream import StateUpdate
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from tests.support.contract import check_run, provider_ids, text_of, tool_ends, types_of

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


async def collect(
    agent: Agent, message: str | None, state: AgentState | None = None
) -> list[Event]:
    return [e async for e in StreamEngine().stream(agent, message, state)]  # type: ignore[misc]


@tool("Add two integers")
def add(a: int, b: int) -> int:
    return a + b


def test_simple_answer_streams_and_completes() -> None:
    async def main() -> None:
        model = ScriptedModel(["Hello there, how can I help?"])
        agent = Agent("Be brief.", model=model)
        events = await collect(agent, "hi")
        check_run(events)
        assert text_of(events) == "Hello there, how can I help?"
        assert isinstance(events[0], UserMessage) and events[0].content == "hi"
        assert events[0].message_id == f"{events[0].run_id}:user"
        assert events[1].type is EventType.STATE_CHANGE
        assert events[-1].status == "completed"
        statuses = [e.new_status for e in events if e.type is EventType.STATE_CHANGE]
        assert statuses == ["thinking", "streaming", "done"]
        assert model.requests[0][0] == {"role": "system", "content": "Be brief."}
        assert model.requests[0][1] == {"role": "user", "content": "hi"}

    asyncio.run(main())


async def test_handle_message_returns_history_for_next_turn() -> None:
    model = ScriptedModel(["first answer", "second answer"])
    agent = Agent("sys", model=model)
    state = await agent.handle_message("one")
    assert state.status is AgentStatus.DONE
    state = await agent.handle_message("two", state)
    roles = [m["role"] for m in state.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert state.messages[-1]["content"] == "second answer"
    assert model.requests[1][-1] == {"role": "user", "content": "two"}
    assert state.last_answer == "second answer"


async def test_tool_call_result_goes_back_to_model() -> None:
    model = ScriptedModel(
        [Turn(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 3}, id="c1")]), "It is 5."]
    )
    agent = Agent(model=model, tools=[add])
    events = await collect(agent, "2+3?")
    check_run(events)
    start = next(e for e in events if e.type is EventType.TOOL_CALL_START)
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    call_id = start.call_id
    assert provider_ids(events) == {call_id: "c1"}  # the app's own id; the provider's kept
    assert start.to_dict()["data"] == {
        "call_id": call_id,
        "tool_name": "add",
        "arguments": {"a": 2, "b": 3},
    }
    assert end.result == "5" and end.error is None
    assert end.duration_ms >= 0
    args = "".join(e.delta for e in events if e.type is EventType.TOOL_CALL_ARGS)
    assert args == '{"a": 2, "b": 3}'
    second = model.requests[1]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["tool_calls"][0]["function"] == {"name": "add", "arguments": args}
    assert second[-1] == {"role": "tool", "tool_call_id": call_id, "content": "5"}
    assert second[-2]["tool_calls"][0]["id"] == call_id
    assert second[-2]["tool_calls"][0]["provider_id"] == "c1"  # for the wire back
    assert model.tools_seen[0] is not None and model.tools_seen[0][0]["function"]["name"] == "add"


async def test_calls_of_one_step_run_concurrently() -> None:
    running = 0
    peak = 0
    all_in = asyncio.Event()

    @tool
    async def slow(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 4:
            all_in.set()
        # Each call waits until all four run at once (run one by one, they time out).
        await asyncio.wait_for(all_in.wait(), 10)
        running -= 1
        return n

    calls = [ScriptedToolCall("slow", {"n": i}, id=f"c{i}") for i in range(4)]
    model = ScriptedModel([Turn(tool_calls=calls), "done"])
    events = await collect(Agent(model=model, tools=[slow]), "go")
    check_run(events)
    assert peak == 4
    assert tool_ends(events) == {"c0": "0", "c1": "1", "c2": "2", "c3": "3"}


async def test_sync_tools_run_in_a_worker_thread() -> None:
    seen: list[int] = []

    loop = asyncio.get_running_loop()
    loop_ran = threading.Event()

    @tool
    def where() -> str:
        seen.append(threading.get_ident())
        # Wait for the loop to run a callback: it cannot while this blocks it.
        loop.call_soon_threadsafe(loop_ran.set)
        return "ok" if loop_ran.wait(10) else "the loop was blocked while the sync tool ran"

    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("where")]), "fine"])
    events = await collect(Agent(model=model, tools=[where]), "x")
    assert seen and seen[0] != threading.get_ident()
    assert list(tool_ends(events).values()) == ["ok"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (ScriptedToolCall("nope", {}), "unknown tool 'nope'; available tools: add"),
        (ScriptedToolCall("add", "{not json"), "invalid arguments: arguments are not valid JSON"),
        (
            ScriptedToolCall("add", {"a": "x", "b": 1}),
            "invalid arguments: argument 'a': expected integer, got string",
        ),
        (ScriptedToolCall("add", {"a": 1}), "invalid arguments: arguments: missing 'b'"),
        (
            ScriptedToolCall("add", {"a": 1, "b": 2, "c": 3}),
            "invalid arguments: arguments: unexpected argument 'c'",
        ),
    ],
)
async def test_bad_tool_input_goes_back_as_error(call: ScriptedToolCall, expected: str) -> None:
    model = ScriptedModel([Turn(tool_calls=[call]), "recovered"])
    events = await collect(Agent(model=model, tools=[add]), "go")
    check_run(events)
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    assert end.error.startswith(expected), end.error
    assert end.result is None
    assert model.requests[1][-1]["content"].startswith("Error: ")
    assert events[-1].status == "completed"
    assert text_of(events) == "recovered"


async def test_tool_that_raises_or_hangs() -> None:
    @tool
    def boom() -> str:
        raise RuntimeError("disk on fire")

    @tool(timeout=0.05)
    async def hang() -> str:
        await asyncio.Event().wait()  # forever
        return "never"

    model = ScriptedModel(
        [
            Turn(tool_calls=[ScriptedToolCall("boom", id="b"), ScriptedToolCall("hang", id="h")]),
            "ok",
        ]
    )
    events = await collect(Agent(model=model, tools=[boom, hang]), "go")
    check_run(events)
    errors = tool_ends(events, "error")
    assert errors == {"b": "RuntimeError: disk on fire", "h": "timed out after 0.05 s"}
    assert events[-1].status == "completed"


async def test_max_steps_fails_with_clear_message() -> None:
    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("add", {"a": 1, "b": 1})])], loop=True)
    events = await collect(Agent(model=model, tools=[add], max_steps=3), "loop")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error_type == "max_steps"
    assert "Stopped after 3 steps" in error.error
    assert events[-1].status == "failed"
    assert len(model.requests) == 3


@pytest.mark.virtual_clock
async def test_cancel_keeps_partial_text_and_closes_tools() -> None:
    model = ScriptedModel([Turn(text="abcdefghij" * 10, chunk_size=1, delay=0.01)])
    agent = Agent(model=model)
    events: list[Event] = []

    handle = agent.start("talk")
    async for e in handle.events():
        events.append(e)
        if e.type is EventType.MESSAGE_CHUNK and e.index == 5:
            assert handle.cancel()
    assert (await handle.wait()).status is AgentStatus.CANCELLED
    assert not handle.cancel()  # finished: nothing left to stop
    check_run(events)
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.finish_reason == "cancelled"
    assert complete.content.startswith("abcdef")
    assert events[-1].status == "cancelled"
    assert not any(e.type is EventType.ERROR for e in events)


async def test_cancel_during_tool_call_ends_the_call() -> None:
    started = asyncio.Event()

    @tool
    async def wait_forever() -> str:
        started.set()
        await asyncio.Event().wait()
        return "no"

    model = ScriptedModel([Turn(tool_calls=[ScriptedToolCall("wait_forever", id="w")])])
    agent = Agent(model=model, tools=[wait_forever])
    sub = agent.dispatcher.subscribe()
    task = asyncio.ensure_future(agent.handle_message("go"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    events = [e async for e in _drain(sub)]
    check_run(events)
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    assert end.error == "cancelled"
    assert events[-1].status == "cancelled"


async def _until_done(sub):  # type: ignore[no-untyped-def]
    events = []
    async for e in sub:
        events.append(e)
        if e.type is EventType.DONE:
            return events
    return events


async def _drain(sub):  # type: ignore[no-untyped-def]
    while (e := sub.recv_nowait()) is not None:
        yield e


@pytest.mark.virtual_clock
async def test_history_after_cancel_is_valid_for_the_next_request() -> None:
    model = ScriptedModel([Turn(text="x" * 50, chunk_size=1, delay=0.01), "second"])
    agent = Agent(model=model)
    handle = agent.start("first")
    async for event in handle.events():
        if event.type is EventType.MESSAGE_CHUNK:  # part of the answer is there
            handle.cancel()
    state = await handle.wait()
    assert state.status is AgentStatus.CANCELLED
    assert state.messages[-1]["finish_reason"] == "cancelled"
    state = await agent.handle_message("again", state)
    assert state.status is AgentStatus.DONE
    assert [m["role"] for m in model.requests[1]] == ["user", "assistant", "user"]


@pytest.mark.virtual_clock
async def test_first_token_timeout() -> None:
    model = ScriptedModel([Turn(text="late", delay=5)])
    agent = Agent(model=model, timeouts=Timeouts(first_token=0.05))
    events = await collect(agent, "x")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error_type == "timeout"
    assert error.error == "Timed out: the model sent nothing for 0.05 s."
    assert events[-1].status == "failed"


@pytest.mark.virtual_clock
async def test_idle_timeout_keeps_partial_text() -> None:
    class Stalling(ScriptedModel):
        async def stream_completion(self, messages, tools=None, *, timeouts=None):  # type: ignore[no-untyped-def]
            from desktop_agent import ChatChunk

            yield ChatChunk(content="partial ")
            yield ChatChunk(content="text")
            await asyncio.Event().wait()  # then nothing, ever

    agent = Agent(model=Stalling(), timeouts=Timeouts(idle=0.05))
    events = await collect(agent, "x")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error == "Timed out: no data from the model for 0.05 s."
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.to_dict()["data"] == {
        "message_id": complete.message_id,
        "content": "partial text",
        "finish_reason": "error",
    }


@pytest.mark.virtual_clock
async def test_total_timeout() -> None:
    model = ScriptedModel([Turn(text="y" * 100, chunk_size=1, delay=0.01)])
    agent = Agent(model=model, timeouts=Timeouts(total=0.1))
    events = await collect(agent, "x")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.to_dict()["data"] == {
        "error": "Timed out: the run took longer than 0.1 s.",
        "error_type": "timeout",
        "recoverable": True,
    }


async def test_retry_before_text_then_success() -> None:
    model = ScriptedModel(
        [
            Turn(error=RateLimitError("Rate limited (429)", retry_after=0.01)),
            Turn(error=ServerError("boom (500)")),
            "finally",
        ]
    )
    events = await collect(Agent(model=model, retry=FAST_RETRY), "x")
    check_run(events)
    assert text_of(events) == "finally"
    assert len(model.requests) == 3
    assert events[-1].status == "completed"


async def test_no_retry_after_text_was_shown() -> None:
    model = ScriptedModel(
        [Turn(text="half an answer", error=ModelConnectionError("reset"), error_after=2), "dup"]
    )
    events = await collect(Agent(model=model, retry=FAST_RETRY), "x")
    check_run(events)
    assert len(model.requests) == 1
    assert text_of(events) == "half an answer"[:8]
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.finish_reason == "error"
    assert events[-1].status == "failed"


@pytest.mark.virtual_clock
async def test_retries_give_up_with_attempt_count() -> None:
    model = ScriptedModel([Turn(error=ServerError("Server error (503)"))], loop=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    events = await collect(Agent(model=model, retry=RetryPolicy(max_attempts=3)), "x")
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error == "Server error (503) (after 3 attempts)"
    assert error.recoverable is True
    # The default back-off, 0.5 s then 1 s, on the loop's virtual clock (no waiting).
    assert loop.time() - started == pytest.approx(1.5, abs=0.01)


async def test_auth_error_is_not_retried() -> None:
    model = ScriptedModel([Turn(error=AuthenticationError("bad key (401)"))], loop=True)
    events = await collect(Agent(model=model, retry=FAST_RETRY), "x")
    check_run(events)
    assert len(model.requests) == 1
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.to_dict()["data"] == {
        "error": "bad key (401)",
        "error_type": "auth",
        "recoverable": False,
    }


async def test_internal_error_in_model_is_reported_not_raised() -> None:
    class Broken(ScriptedModel):
        async def stream_completion(self, messages, tools=None, *, timeouts=None):  # type: ignore[no-untyped-def]
            raise KeyError("surprise")
            yield

    events = await collect(Agent(model=Broken()), "x")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error_type == "internal"
    assert "KeyError" in error.error


async def test_stream_without_finish_reason_fails() -> None:
    model = ScriptedModel([Turn(text="cut short", finish_reason="")])
    events = await collect(Agent(model=model), "x")
    check_run(events)
    error = next(e for e in events if e.type is EventType.ERROR)
    assert error.error_type == "bad_response"
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.content == "cut short"


async def test_reasoning_is_streamed_and_kept_out_of_content() -> None:
    model = ScriptedModel([Turn(text="answer", reasoning="because")])
    events = await collect(Agent(model=model), "x")
    check_run(events)
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.reasoning == "because"
    assert complete.content == "answer"


@pytest.mark.virtual_clock
async def test_stopping_the_stream_consumer_cancels_its_run() -> None:
    model = ScriptedModel([Turn(text="z" * 200, chunk_size=1, delay=0.005)])
    agent = Agent(model=model)
    watcher = agent.dispatcher.subscribe()
    async for event in StreamEngine().stream(agent, "x"):
        if event.type is EventType.MESSAGE_CHUNK:
            break
    events = await asyncio.wait_for(_until_done(watcher), 10)
    check_run(events)
    assert events[-1].status == "cancelled"


async def test_runs_of_one_agent_have_their_own_seq() -> None:
    model = ScriptedModel(["aaaa bbbb cccc"], loop=True)
    agent = Agent(model=model)
    a, b = await asyncio.gather(collect(agent, "1"), collect(agent, "2"))
    check_run(a)
    check_run(b)
    assert a[0].run_id != b[0].run_id


@pytest.mark.parametrize("mode", list(StreamMode))
async def test_stream_modes(mode: StreamMode) -> None:
    model = ScriptedModel(
        [
            Turn(
                text="calc",
                delay=0.002,
                tool_calls=[ScriptedToolCall("add", {"a": 1, "b": 2}, id="k")],
            ),
            "3",
        ]
    )
    items = [x async for x in StreamEngine(mode).stream(Agent(model=model, tools=[add]), "1+2")]
    if mode in (StreamMode.EVENTS, StreamMode.INCREMENTAL):
        check_run(items)  # type: ignore[arg-type]
    elif mode is StreamMode.MESSAGES:
        kinds = set(types_of(items))  # type: ignore[arg-type]
        assert kinds == {"user_message", "message_chunk", "message_complete", "done"}
    elif mode is StreamMode.UPDATES:
        kinds = types_of(items)  # type: ignore[arg-type]
        assert "message_chunk" not in kinds and "tool_call_args" not in kinds
        assert kinds[-1] == "done"
        updates = [i for i in items if isinstance(i, StateUpdate)]
        assert len(updates) == len(items)
        start = next(i for i in updates if isinstance(i.event, ToolCallStart))
        assert start.changes["tool_calls"][0]["status"] == "running"
        end = next(i for i in updates if isinstance(i.event, ToolCallEnd))
        assert end.changes["messages_added"] == [
            {"role": "tool", "tool_call_id": end.event.call_id, "content": "3"}
        ]
        assert isinstance(updates[0].event, UserMessage) and updates[0].changes == {}
        first = next(i for i in updates if i.type is EventType.STATE_CHANGE)
        assert first.changes == {"status": "thinking"}
        # On the wire an update is the event with its changes in `data`.
        wire = first.to_dict()
        assert wire["type"] == "state_change"
        assert wire["data"] == {
            "old_status": "idle",
            "new_status": "thinking",
            "changes": {"status": "thinking"},
        }
    else:
        assert all(isinstance(x, AgentState) for x in items)
        final = items[-1]
        assert isinstance(final, AgentState)
        assert final.status is AgentStatus.DONE
        assert final.messages[-1]["content"] == "3"
        assert any(isinstance(x, AgentState) and x.text for x in items), "no partial text seen"


async def test_values_snapshots_match_the_agents_own_state() -> None:
    turns = [Turn(text="let me", tool_calls=[ScriptedToolCall("add", {"a": 4, "b": 4})]), "8"]
    agent = Agent("sys", model=ScriptedModel(turns), tools=[add])
    values = [x async for x in StreamEngine(StreamMode.VALUES).stream(agent, "4+4")]
    replay = ScriptedModel(turns)
    direct = await Agent("sys", model=replay, tools=[add]).handle_message("4+4")
    final = values[-1]
    assert isinstance(final, AgentState)
    # Call ids are random per run: compare everything else.
    ignore = {"tool_calls", "tool_call_id"}
    strip = [{k: v for k, v in m.items() if k not in ignore} for m in final.messages]
    assert strip == [{k: v for k, v in m.items() if k not in ignore} for m in direct.messages]
    assert final.status is direct.status is AgentStatus.DONE


async def test_the_user_message_is_the_first_event_and_only_when_there_is_one() -> None:
    agent = Agent(model=ScriptedModel(["one", "two"]))
    first = await collect(agent, "hello")
    check_run(first)
    user = first[0]
    assert isinstance(user, UserMessage) and user.seq == 0
    assert user.to_dict()["data"] == {"content": "hello", "message_id": f"{user.run_id}:user"}
    changes = [e.to_dict()["data"] for e in first if e.type is EventType.STATE_CHANGE]
    assert all(set(data) == {"old_status", "new_status"} for data in changes)  # no "input"
    # Answering the history as it stands (regenerate): no user message.
    state = AgentState(messages=({"role": "user", "content": "hello"},))
    again = await collect(agent, None, state)
    check_run(again)
    assert not any(isinstance(e, UserMessage) for e in again)
    assert again[0].seq == 0 and again[0].type is EventType.STATE_CHANGE
