"""The SSE + WebSocket server with real clients: aiohttp for SSE, websockets for WS."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import websockets
from aiohttp import web

from desktop_agent import Event, Orchestrator, tool
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.server import ChatServer, is_loopback
from tests.support.clock import until
from tests.support.contract import check_run


@tool("Wait, then answer")
async def slow_lookup(topic: str) -> str:
    await asyncio.sleep(0.25)
    return f"facts about {topic}"


class Running:
    def __init__(self, server: ChatServer, url: str) -> None:
        self.server = server
        self.url = url
        self.orchestrator = server.orchestrator


async def start(model: ScriptedModel, **kwargs: Any) -> tuple[Running, web.AppRunner]:
    orchestrator = Orchestrator(model, tools=[slow_lookup])
    server = ChatServer(orchestrator, keepalive=0.05, **kwargs)
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return Running(server, f"http://127.0.0.1:{port}"), runner


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    model = ScriptedModel(
        [
            Turn(
                text="Looking it up. ",
                tool_calls=[ScriptedToolCall("slow_lookup", {"topic": "owls"})],
            ),
            Turn(text="Owls are nocturnal.", chunk_size=3),
        ],
        loop=True,
    )
    srv, runner = await start(model)
    yield srv
    await srv.orchestrator.aclose()
    await runner.cleanup()


async def read_sse(response: aiohttp.ClientResponse) -> tuple[list[dict[str, Any]], int]:
    """Parse an SSE body: (events with id/event/data, number of keep-alive comments)."""
    events: list[dict[str, Any]] = []
    comments = 0
    current: dict[str, Any] = {}
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if current:
                events.append(current)
                current = {}
            continue
        if line.startswith(":"):
            comments += 1
            continue
        field, _, value = line.partition(": ")
        current[field] = value
    return events, comments


async def test_sse_stream_ids_names_order_done(running: Running) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.url}/api/chat/stream", json={"message": "tell me about owls"}
        ) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        raw, keepalives = await read_sse(response)
    events = [Event.from_dict(json.loads(r["data"])) for r in raw]
    check_run(events)
    assert [int(r["id"]) for r in raw] == [e.seq for e in events] == list(range(len(events)))
    assert [r["event"] for r in raw] == [e.type.value for e in events]
    assert raw[-1]["event"] == "done"
    assert keepalives >= 1  # the tool took 0.25 s; keep-alives every 0.05 s
    text = "".join(e.chunk for e in events if e.type.value == "message_chunk")
    assert text == "Looking it up. Owls are nocturnal."


async def test_get_stream_for_eventsource_and_conversation_continues(running: Running) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{running.url}/chat/stream", params={"message": "first", "conversation_id": "c-1"}
        ) as response:
            raw, _ = await read_sse(response)
        assert json.loads(raw[0]["data"])["tenant_id"] == "c-1"
        async with http.get(
            f"{running.url}/chat/stream", params={"message": "second", "conversation_id": "c-1"}
        ) as response:
            await read_sse(response)
    users = [m["content"] for m in running.orchestrator.messages("c-1") if m["role"] == "user"]
    assert users == ["first", "second"]


async def test_modes(running: Running) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.url}/api/chat/stream", json={"message": "x", "mode": "values"}
        ) as response,
    ):
        raw, _ = await read_sse(response)
    assert {r["event"] for r in raw} == {"values"}
    assert json.loads(raw[-1]["data"])["data"]["status"] == "done"


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        (
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ({"json": {"conversation_id": "x"}}, 400, "'message' must be a non-empty string"),
        ({"json": {"message": "x", "mode": "bogus"}}, 400, "'mode' must be one of"),
        ({"json": {"message": "x" * 70_000}}, 413, "over 64 KB"),
    ],
)
async def test_bad_requests(
    running: Running, kwargs: dict[str, Any], status: int, message: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{running.url}/api/chat/stream", **kwargs) as response,
    ):
        assert response.status == status
        body = await response.json()
    assert message in body["error"]["message"]


async def test_unknown_route_is_json_404(running: Running) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{running.url}/nope") as response:
        assert response.status == 404
        assert (await response.json())["error"]["status"] == 404


async def test_index_page_served(running: Running) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{running.url}/") as response:
            assert response.status == 200
            assert "EventSource" not in await response.text()  # the script is separate
        async with http.get(f"{running.url}/static/app.js") as response:
            assert "EventSource" in await response.text()


async def test_token_and_cors() -> None:
    srv, runner = await start(
        ScriptedModel(["hi"], loop=True), token="s3cret", cors_origin="https://app.example"
    )
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{srv.url}/api/chat/stream", json={"message": "x"}) as r:
                assert r.status == 401
            async with http.get(f"{srv.url}/chat/stream", params={"message": "x"}) as r:
                assert r.status == 401
            async with http.get(f"{srv.url}/") as r:
                assert r.status == 200  # the page holds no secret
            headers = {"Authorization": "Bearer s3cret", "Origin": "https://app.example"}
            async with http.post(
                f"{srv.url}/api/chat/stream", json={"message": "x"}, headers=headers
            ) as r:
                assert r.status == 200
                assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
                await read_sse(r)
            async with http.get(
                f"{srv.url}/chat/stream", params={"message": "x", "token": "s3cret"}
            ) as r:
                assert r.status == 200
                await read_sse(r)
            other = {"Authorization": "Bearer s3cret", "Origin": "https://evil.example"}
            async with http.post(
                f"{srv.url}/api/chat/stream", json={"message": "x"}, headers=other
            ) as r:
                assert r.status == 403  # another origin: refused, not just left without CORS
                assert "Access-Control-Allow-Origin" not in r.headers
    finally:
        await srv.orchestrator.aclose()
        await runner.cleanup()


async def test_no_cors_by_default(running: Running) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.url}/api/chat/stream",
            json={"message": "x"},
            headers={"Origin": "https://a.example"},
        ) as r,
    ):
        assert r.status == 403
        assert "Access-Control-Allow-Origin" not in r.headers


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert (
        not is_loopback("0.0.0.0")
        and not is_loopback("192.168.1.2")
        and not is_loopback("example.com")
    )


async def test_disconnects_stop_watching_runs_complete_nothing_leaks(running: Running) -> None:
    before = len(asyncio.all_tasks())
    for i in range(30):
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{running.url}/api/chat/stream",
                json={"message": f"q{i}", "conversation_id": f"d{i}"},
            ) as response,
        ):
            async for raw in response.content:
                if b"message_chunk" in raw:
                    break  # leave mid-stream
    for i in range(30):
        for _ in range(200):
            if not running.orchestrator.busy(f"d{i}"):
                break
            await asyncio.sleep(0.02)
        history = running.orchestrator.messages(f"d{i}")
        assert history[-1]["content"] == "Owls are nocturnal.", history[-1]  # the run completed
    for _ in range(100):
        if running.server.open_streams == 0:
            break
        await asyncio.sleep(0.02)
    assert running.server.open_streams == 0
    assert running.orchestrator.dispatcher.subscriber_count == 0
    await until(lambda: len(asyncio.all_tasks()) <= before + 1, "the runs' tasks to end")


async def test_slow_client_does_not_slow_others(running: Running) -> None:
    async with (
        aiohttp.ClientSession() as slow_http,
        slow_http.post(
            f"{running.url}/api/chat/stream", json={"message": "slow", "conversation_id": "slow"}
        ) as slow,
    ):
        # The slow client reads nothing; a fast one runs to completion meanwhile.
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{running.url}/api/chat/stream",
                json={"message": "fast", "conversation_id": "fast"},
            ) as fast,
        ):
            raw, _ = await read_sse(fast)
        assert raw[-1]["event"] == "done"
        rest, _ = await read_sse(slow)
    assert rest[-1]["event"] == "done"


async def test_websocket_two_messages_and_cancel() -> None:
    model = ScriptedModel(
        ["short answer", Turn(text="long " * 200, chunk_size=2, delay=0.005), "after"]
    )
    srv, runner = await start(model)
    ws_url = srv.url.replace("http://", "ws://") + "/chat"
    try:
        async with websockets.connect(ws_url) as ws:
            await ws.send(json.dumps({"message": "one", "conversation_id": "w"}))
            first = await _until_done(ws)
            check_run(first)
            assert first[-1].status == "completed"
            await ws.send(json.dumps({"message": "two", "conversation_id": "w"}))
            got: list[Event] = []
            while True:
                raw = json.loads(await ws.recv())
                if raw.get("type") == "cancelled":
                    continue
                event = Event.from_dict(raw)
                got.append(event)
                if event.type.value == "message_chunk" and event.index == 5:
                    await ws.send(json.dumps({"type": "cancel"}))
                if event.type.value == "done":
                    break
            check_run(got)
            assert got[-1].status == "cancelled"
            await ws.send(json.dumps({"message": "three", "conversation_id": "w"}))
            third = await _until_done(ws)
            assert third[-1].status == "completed"
        users = [m["content"] for m in srv.orchestrator.messages("w") if m["role"] == "user"]
        assert users == ["one", "two", "three"]
    finally:
        await srv.orchestrator.aclose()
        await runner.cleanup()


async def _until_done(ws: Any) -> list[Event]:
    events = []
    while True:
        raw = json.loads(await ws.recv())
        if "seq" not in raw:
            continue
        event = Event.from_dict(raw)
        events.append(event)
        if event.type.value == "done":
            return events
