"""The "AG-UI agent" provider against the reference AG-UI agent (official package,
real HTTP on 127.0.0.1), through the real engine: text, reasoning, a tool call the
agent ran (shown with its result, nothing run here), state snapshots, the app's
own tool as an AG-UI frontend tool, RUN_ERROR, a cut stream, and the bounds."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_agent import Agent, Event, tool
from desktop_agent.engine.events import (
    ErrorReport,
    MessageChunk,
    ReasoningChunk,
    ToolCallEnd,
    ToolCallStart,
)
from desktop_agent.providers.agui import AguiAgent
from tests.support.agui_server import ReferenceAgent

ran_here: list[str] = []


@tool("Look a city up (must never run here: the agent runs it)")
def lookup(city: str) -> str:
    ran_here.append(city)
    return "not from here"


@tool("The user's local time (runs in the app)")
def local_time() -> str:
    return "12:34"


async def run(message: str, **kwargs: Any) -> tuple[list[Event], AguiAgent, ReferenceAgent, Any]:
    async with ReferenceAgent() as agent_server:
        model = AguiAgent(agent_server.url, headers={"X-Team": "blue"}, **kwargs)
        agent = Agent(model=model, tools=[lookup, local_time])
        with agent.dispatcher.subscribe() as sub:
            state = await agent.handle_message(message)
            events: list[Event] = sub.drain_nowait()
        await model.aclose()
        return events, model, agent_server, state


def text(events: list[Event], kind: type = MessageChunk) -> str:
    return "".join(e.chunk for e in events if isinstance(e, kind))  # type: ignore[attr-defined]


async def test_text_and_what_is_sent() -> None:
    events, _, server, state = await run("hello")
    assert text(events) == "You said: hello"
    given = server.inputs[0]
    assert given.messages[-1].content == "hello"
    assert [t.name for t in given.tools or []] == ["lookup", "local_time"]
    assert server.headers[0]["X-Team"] == "blue"
    assert state.status.value == "done"


async def test_reasoning() -> None:
    events, _, _, _ = await run("think")
    assert text(events, ReasoningChunk) == "Hmm, a greeting."
    assert text(events) == "Hello!"


async def test_a_call_the_agent_ran_is_shown_not_run() -> None:
    ran_here.clear()
    events, model, server, state = await run("tools")
    assert ran_here == []
    start = next(e for e in events if isinstance(e, ToolCallStart))
    end = next(e for e in events if isinstance(e, ToolCallEnd))
    assert (start.tool_name, start.arguments) == ("lookup", {"city": "Oslo"})
    assert start.ran_by == "agent" and start.to_dict()["data"]["ran_by"] == "agent"
    assert (end.call_id, end.result, end.error) == (start.call_id, "sunny", None)
    assert text(events) == "Let me check. It is sunny in Oslo."
    assert len(server.inputs) == 1  # one AG-UI run, read across two model steps
    assert list(model.state.values()) == [{"step": "done", "city": "Oslo"}]
    assert state.messages[-1]["content"] == "It is sunny in Oslo."


async def test_the_apps_tool_runs_here_as_a_frontend_tool() -> None:
    async with ReferenceAgent() as server:
        model = AguiAgent(server.url)
        agent = Agent(model=model, tools=[local_time, lookup])
        state = await agent.handle_message("frontend")
        await model.aclose()
    assert state.messages[-1]["content"] == "The tool said: 12:34"
    second = server.inputs[1]
    assert second.messages[-1].role == "tool" and second.messages[-1].tool_call_id == "fe-1"


@pytest.mark.parametrize(
    ("message", "words"),
    [("error", "the agent fell over"), ("cut", "before RUN_FINISHED")],
)
async def test_run_error_and_cut_stream_fail_the_run(message: str, words: str) -> None:
    events, _, _, state = await run(message)
    assert state.status.value == "failed"
    errors = [e for e in events if isinstance(e, ErrorReport)]
    assert len(errors) == 1 and words in errors[0].error


async def test_an_event_over_the_limit_is_an_error() -> None:
    events, _, _, state = await run("hello " + "x" * 5000, max_event_bytes=1000)
    assert state.status.value == "failed"
    assert "over 1000 bytes" in next(e for e in events if isinstance(e, ErrorReport)).error
