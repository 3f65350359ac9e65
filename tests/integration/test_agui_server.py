"""`POST /agui` with a real HTTP client; every event is parsed strictly with the
official `ag-ui-protocol` types (tests/support/agui_check.py): text and reasoning,
tools the app runs, frontend tools, approval interrupt and resume, errors, bad
input, the security gate, a client that goes away."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from ag_ui.core import BaseEvent, EventType
from aiohttp import web

from desktop_agent import Orchestrator, tool
from desktop_agent.engine.model import ServerError
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.server import ChatServer
from tests.support.agui_check import parse_sse

done_work: list[str] = []


@tool("Add two numbers")
def add(a: int, b: int) -> int:
    return a + b


@tool("Deploy a service", side_effects=True)
def deploy(service: str) -> str:
    done_work.append(service)
    return f"{service} deployed"


class Served:
    def __init__(self, model: ScriptedModel, token: str | None = None) -> None:
        self.model = model
        self.orchestrator = Orchestrator(model, tools=[add, deploy])
        self.server = ChatServer(self.orchestrator, keepalive=0.05, token=token)
        self.runner = web.AppRunner(self.server.app, access_log=None, shutdown_timeout=0.5)
        self.url = ""
        self.token = token

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/agui"

    async def run(self, body: dict[str, Any], **headers: str) -> tuple[int, str, list[BaseEvent]]:
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.url, json=body, headers=headers) as response,
        ):
            text = await response.text()
            events = parse_sse(text) if response.status == 200 else []
            if response.status == 200:
                assert response.headers["Content-Type"].startswith("text/event-stream")
            return response.status, text, events


@pytest.fixture
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    turns = request.param if hasattr(request, "param") else []
    s = Served(ScriptedModel(turns))
    await s.start()
    yield s
    await s.server.agui.aclose()
    await s.orchestrator.aclose()
    await s.runner.cleanup()


def user(text: str, mid: str = "u1") -> dict[str, Any]:
    return {"id": mid, "role": "user", "content": text}


def body(thread: str, run: str, *messages: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "threadId": thread,
        "runId": run,
        "state": {},
        "messages": list(messages),
        "tools": [],
        "context": [],
        "forwardedProps": {},
        **more,
    }


def types(events: list[BaseEvent]) -> list[str]:
    return [e.type.value for e in events if e.type is not EventType.STATE_SNAPSHOT]


def joined(events: list[BaseEvent], kind: EventType) -> str:
    return "".join(e.delta for e in events if e.type is kind)  # type: ignore[attr-defined]


def check_frame(events: list[BaseEvent], thread: str, run: str) -> None:
    first, last = events[0], events[-1]
    assert first.type is EventType.RUN_STARTED
    assert (first.thread_id, first.run_id) == (thread, run)  # type: ignore[attr-defined]
    if last.type is EventType.RUN_FINISHED:
        assert (last.thread_id, last.run_id) == (thread, run)  # type: ignore[attr-defined]
    else:
        assert last.type is EventType.RUN_ERROR
    assert sum(e.type in (EventType.RUN_FINISHED, EventType.RUN_ERROR) for e in events) == 1


@pytest.mark.parametrize(
    "served", [[Turn(text="Hello from the agent.", reasoning="Think first.")]], indirect=True
)
async def test_text_and_reasoning(served: Served) -> None:
    status, _, events = await served.run(body("t1", "r1", user("hi")))
    assert status == 200
    check_frame(events, "t1", "r1")
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "Hello from the agent."
    assert joined(events, EventType.REASONING_MESSAGE_CONTENT) == "Think first."
    assert types(events) == [
        "RUN_STARTED",
        "REASONING_START",
        "REASONING_MESSAGE_START",
        *["REASONING_MESSAGE_CONTENT"] * 3,
        "REASONING_MESSAGE_END",
        "REASONING_END",
        "TEXT_MESSAGE_START",
        *["TEXT_MESSAGE_CONTENT"] * 6,
        "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    snapshots = [e.snapshot for e in events if e.type is EventType.STATE_SNAPSHOT]  # type: ignore[attr-defined]
    assert snapshots[-1] == {"agentStatus": "done"}
    # threadId is the conversation: the next run continues it.
    served.model.add("Second answer.")
    status, _, events = await served.run(body("t1", "r2", user("hi"), user("again", "u2")))
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "Second answer."
    assert [m["content"] for m in served.model.requests[-1] if m["role"] == "user"] == [
        "hi",
        "again",
    ]


@pytest.mark.parametrize(
    "served",
    [[Turn(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 40})]), "The sum is 42."]],
    indirect=True,
)
async def test_tool_the_app_runs(served: Served) -> None:
    _, _, events = await served.run(body("t2", "r1", user("add")))
    check_frame(events, "t2", "r1")
    start = next(e for e in events if e.type is EventType.TOOL_CALL_START)
    call_id = start.tool_call_id  # type: ignore[attr-defined]
    assert start.tool_call_name == "add"  # type: ignore[attr-defined]
    assert json.loads(joined(events, EventType.TOOL_CALL_ARGS)) == {"a": 2, "b": 40}
    result = next(e for e in events if e.type is EventType.TOOL_CALL_RESULT)
    assert (result.tool_call_id, result.content) == (call_id, "42")  # type: ignore[attr-defined]
    order = types(events)
    assert order.index("TOOL_CALL_END") < order.index("TOOL_CALL_RESULT")
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "The sum is 42."


WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city (runs in the client)",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.mark.parametrize(
    "served",
    [[Turn(tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})]), "Oslo is sunny."]],
    indirect=True,
)
async def test_frontend_tool_ends_the_run_and_the_next_run_continues(served: Served) -> None:
    _, _, events = await served.run(body("t3", "r1", user("weather?"), tools=[WEATHER]))
    check_frame(events, "t3", "r1")
    assert served.model.tools_seen[0] is not None
    assert "get_weather" in [t["function"]["name"] for t in served.model.tools_seen[0]]
    start = next(e for e in events if e.type is EventType.TOOL_CALL_START)
    call_id = start.tool_call_id  # type: ignore[attr-defined]
    assert events[-1].outcome.pending_tool_call_ids == [call_id]  # type: ignore[attr-defined]
    assert "TOOL_CALL_RESULT" not in types(events)  # the client runs it
    assert types(events)[-2] == "TOOL_CALL_END"
    # The client ran the tool; its next run carries the result.
    history = [
        user("weather?"),
        {
            "id": "a1",
            "role": "assistant",
            "toolCalls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"id": "tr1", "role": "tool", "toolCallId": call_id, "content": "sunny, 21 C"},
    ]
    _, _, events = await served.run(body("t3", "r2", *history, tools=[WEATHER]))
    check_frame(events, "t3", "r2")
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "Oslo is sunny."
    tool_messages = [m for m in served.model.requests[1] if m["role"] == "tool"]
    assert tool_messages[0]["content"] == "sunny, 21 C"


@pytest.mark.parametrize(
    "served",
    [
        [
            Turn(tool_calls=[ScriptedToolCall("deploy", {"service": "api"})]),
            "Deployed api.",
            Turn(tool_calls=[ScriptedToolCall("deploy", {"service": "db"})]),
            "Not deploying db.",
        ]
    ],
    indirect=True,
)
async def test_approval_interrupt_and_resume(served: Served) -> None:
    done_work.clear()
    _, _, events = await served.run(body("t4", "r1", user("deploy api")))
    check_frame(events, "t4", "r1")
    outcome = events[-1].outcome  # type: ignore[attr-defined]
    assert outcome.type == "interrupt"
    interrupt = outcome.interrupts[0]
    assert interrupt.reason == "tool_approval"
    assert interrupt.metadata == {"toolName": "deploy", "arguments": {"service": "api"}}
    assert done_work == []  # nothing ran before the answer
    resume = [{"interruptId": interrupt.id, "status": "resolved", "payload": {"decision": "allow"}}]
    # a wrong answer is refused before anything changes
    status, text, _ = await served.run(
        body("t4", "r2", user("deploy api"), resume=[{**resume[0], "payload": {"x": 1}}])
    )
    assert status == 400 and "decision" in text
    _, _, events = await served.run(body("t4", "r2", user("deploy api"), resume=resume))
    check_frame(events, "t4", "r2")
    assert done_work == ["api"]
    result = next(e for e in events if e.type is EventType.TOOL_CALL_RESULT)
    assert result.tool_call_id == interrupt.id  # type: ignore[attr-defined]
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "Deployed api."
    # denied: the tool does not run, the model hears so
    _, _, events = await served.run(body("t4", "r3", user("deploy db", "u2")))
    interrupt = events[-1].outcome.interrupts[0]  # type: ignore[attr-defined]
    cancel = [{"interruptId": interrupt.id, "status": "cancelled"}]
    _, _, events = await served.run(body("t4", "r4", user("deploy db", "u2"), resume=cancel))
    assert done_work == ["api"]
    result = next(e for e in events if e.type is EventType.TOOL_CALL_RESULT)
    assert result.content.startswith("Error:")  # type: ignore[attr-defined]
    assert events[-1].type is EventType.RUN_FINISHED


@pytest.mark.parametrize(
    "served",
    [[Turn(tool_calls=[ScriptedToolCall("deploy", {"service": "x"})]), "Fresh answer."]],
    indirect=True,
)
async def test_a_new_message_cancels_a_waiting_run(served: Served) -> None:
    done_work.clear()
    await served.run(body("t5", "r1", user("deploy x")))
    assert "t5" in served.server.agui.waiting
    _, _, events = await served.run(body("t5", "r2", user("deploy x"), user("never mind", "u2")))
    check_frame(events, "t5", "r2")
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "Fresh answer."
    assert done_work == [] and served.server.agui.waiting == {}


@pytest.mark.parametrize(
    "served",
    [[Turn(text="partial ", error=ServerError("upstream exploded (500)"), error_after=1)]],
    indirect=True,
)
async def test_model_error_is_run_error(served: Served) -> None:
    _, _, events = await served.run(body("t6", "r1", user("hi")))
    check_frame(events, "t6", "r1")
    assert events[-1].type is EventType.RUN_ERROR
    assert "upstream exploded" in events[-1].message  # type: ignore[attr-defined]
    assert events[-1].code == "server"  # type: ignore[attr-defined]
    assert "TEXT_MESSAGE_END" in types(events)  # the open message is closed first


@pytest.mark.parametrize("served", [["never"]], indirect=True)
async def test_bad_input_is_refused_before_a_run(served: Served) -> None:
    cases = [
        ({"runId": "r", "messages": []}, "threadId"),
        (body("bad id\r\n", "r", user("x")), "threadId"),
        (body("t7", "r"), "last message"),
        (body("t7", "r", {"id": "s", "role": "system", "content": "x"}), "last message"),
        (body("t7", "r", user("x"), resume=[{"interruptId": "nope", "status": "resolved"}]), ""),
    ]
    for given, words in cases:
        status, text, _ = await served.run(given)
        assert status == 400, given
        assert words in text
    assert served.model.requests == []


async def test_security_gate_applies() -> None:
    s = Served(ScriptedModel(["never"]), token="s3cret-token")
    await s.start()
    try:
        status, _, _ = await s.run(body("t", "r", user("x")), Authorization="Bearer wrong")
        assert status == 401
        status, _, _ = await s.run(body("t", "r", user("x")), Origin="http://evil.example")
        assert status == 403
        async with aiohttp.ClientSession() as http:
            async with http.post(
                s.url,
                data=json.dumps(body("t", "r", user("x"))),
                headers={"Authorization": "Bearer s3cret-token", "Content-Type": "text/plain"},
            ) as response:
                assert response.status == 415
            async with http.post(
                s.url,
                data=io.BytesIO(b"{" + b" " * (3 * 1024 * 1024) + b"}"),
                headers={
                    "Authorization": "Bearer s3cret-token",
                    "Content-Type": "application/json",
                },
            ) as response:
                assert response.status == 413
        assert s.model.requests == []
    finally:
        await s.orchestrator.aclose()
        await s.runner.cleanup()


@pytest.mark.parametrize(
    "served", [[Turn(text="x" * 400, chunk_size=1, delay=0.002)]], indirect=True
)
async def test_client_that_leaves_only_stops_watching(served: Served) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(served.url, json=body("t8", "r1", user("long"))) as response,
    ):
        assert response.status == 200
        await response.content.readline()  # RUN_STARTED arrived
    # The run completes and is kept in the conversation.
    for handle in served.orchestrator.runs("t8"):
        await handle.wait()
    messages = served.orchestrator.messages("t8")
    assert messages[-1]["content"] == "x" * 400
    for _ in range(100):
        if served.server.open_streams == 0:
            break
        await asyncio.sleep(0.01)
    assert served.server.open_streams == 0


@pytest.mark.parametrize("served", [["I remember: blue."]], indirect=True)
async def test_a_new_thread_starts_from_the_clients_history(served: Served) -> None:
    history = [
        user("my colour is blue", "u1"),
        {"id": "a1", "role": "assistant", "content": "Noted."},
        user("what is my colour?", "u2"),
    ]
    _, _, events = await served.run(body("t9", "r1", *history))
    check_frame(events, "t9", "r1")
    sent = [(m["role"], m["content"]) for m in served.model.requests[0]]
    assert sent == [
        ("user", "my colour is blue"),
        ("assistant", "Noted."),
        ("user", "what is my colour?"),
    ]


@pytest.mark.parametrize("served", [["A long thread, answered."]], indirect=True)
async def test_a_long_history_fits(served: Served) -> None:
    """AG-UI clients send the whole thread each run: 300 KB is fine (other routes
    stop at 64 KB); over 2 MB is 413 (above)."""
    history = [user("x" * 1000, f"u{i}") for i in range(300)]
    status, _, events = await served.run(body("t10", "r1", *history))
    assert status == 200
    assert joined(events, EventType.TEXT_MESSAGE_CONTENT) == "A long thread, answered."
