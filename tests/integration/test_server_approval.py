"""Approval over the WebSocket (and POST /api/approve for SSE clients), with real
clients: allow once, always, deny, and a run cancelled while a request waits."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import websockets
from aiohttp import web

from desktop_agent import Approvals, Event, Orchestrator, tool
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.server import ChatServer
from tests.support.contract import check_run

done_work: list[str] = []


@tool("Deploy a service", side_effects=True)
def deploy(service: str) -> str:
    done_work.append(service)
    return f"{service} deployed"


def deploy_turn(service: str, call_id: str) -> Turn:
    return Turn(tool_calls=[ScriptedToolCall("deploy", {"service": service}, id=call_id)])


async def start(
    turns: list[Turn | str], approvals: Approvals | None = None
) -> tuple[ChatServer, web.AppRunner, str]:
    orchestrator = Orchestrator(ScriptedModel(turns), tools=[deploy], approvals=approvals)
    server = ChatServer(orchestrator, keepalive=0.05)
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return server, runner, f"127.0.0.1:{runner.addresses[0][1]}"


async def events_until(ws: Any, stop: str) -> tuple[list[Event], list[dict[str, Any]]]:
    events: list[Event] = []
    replies: list[dict[str, Any]] = []
    while True:
        raw = json.loads(await ws.recv())
        if raw.get("type") in ("approval", "cancelled", "error"):
            replies.append(raw)
            continue
        event = Event.from_dict(raw)
        events.append(event)
        if event.type.value == stop:
            return events, replies


async def test_websocket_allow_always_deny_and_cancel() -> None:
    done_work.clear()
    kept: list[frozenset[str]] = []
    turns: list[Turn | str] = [
        deploy_turn("api", "c1"),
        "Deployed api.",
        deploy_turn("db", "c2"),
        "Not deploying db.",
        deploy_turn("web", "c3"),
        "Deployed web.",
        deploy_turn("cache", "c4"),
        "Deployed cache, no question asked.",
        deploy_turn("queue", "c5"),
        "never said",
        "Fine.",
    ]
    server, runner, host = await start(turns, Approvals(on_change=kept.append))
    try:
        async with websockets.connect(f"ws://{host}/chat") as ws:
            # allow once
            await ws.send(json.dumps({"message": "deploy api", "conversation_id": "ops"}))
            events, _ = await events_until(ws, "tool_approval_request")
            c1 = events[-1].call_id  # the app's own id for the call
            assert events[-1].to_dict()["data"] == {
                "call_id": c1,
                "tool_name": "deploy",
                "arguments": {"service": "api"},
            }
            await ws.send(json.dumps({"type": "approve", "call_id": c1, "decision": "allow"}))
            more, replies = await events_until(ws, "done")
            assert replies == [
                {"type": "approval", "call_id": c1, "decision": "allow", "found": True}
            ]
            check_run(events + more)
            assert done_work == ["api"]

            # deny
            await ws.send(json.dumps({"message": "deploy db", "conversation_id": "ops"}))
            asked, _ = await events_until(ws, "tool_approval_request")
            c2 = asked[-1].call_id
            await ws.send(json.dumps({"type": "approve", "call_id": c2, "decision": "deny"}))
            more, _ = await events_until(ws, "done")
            end = next(e for e in more if e.type.value == "tool_call_end")
            assert end.error == "the user denied this tool call"
            assert done_work == ["api"]

            # always: this one and the next run without asking
            await ws.send(json.dumps({"message": "deploy web", "conversation_id": "ops"}))
            asked, _ = await events_until(ws, "tool_approval_request")
            c3 = asked[-1].call_id
            await ws.send(json.dumps({"type": "approve", "call_id": c3, "decision": "always"}))
            await events_until(ws, "done")
            assert kept == [frozenset({"deploy"})]
            await ws.send(json.dumps({"message": "deploy cache", "conversation_id": "ops"}))
            events, _ = await events_until(ws, "done")
            assert not any(e.type.value == "tool_approval_request" for e in events)
            assert done_work == ["api", "web", "cache"]

            # cancelled while the request waits
            server.orchestrator.approvals.revoke("deploy")
            await ws.send(json.dumps({"message": "deploy queue", "conversation_id": "ops"}))
            events, _ = await events_until(ws, "tool_approval_request")
            await ws.send(json.dumps({"type": "cancel"}))
            more, replies = await events_until(ws, "done")
            check_run(events + more)
            assert more[-1].status == "cancelled"
            end = next(e for e in more if e.type.value == "tool_call_end")
            assert end.error == "cancelled while waiting for approval"
            c5 = events[-1].call_id
            await ws.send(json.dumps({"type": "approve", "call_id": c5, "decision": "allow"}))
            reply = json.loads(await ws.recv())
            assert reply == {
                "type": "approval",
                "call_id": c5,
                "decision": "allow",
                "found": False,
            }
            await ws.send(json.dumps({"type": "approve", "call_id": c5, "decision": "sure"}))
            reply = json.loads(await ws.recv())
            assert reply["found"] is False and "one of allow, always, deny" in reply["error"]
            await ws.send(json.dumps({"message": "and now?", "conversation_id": "ops"}))
            events, _ = await events_until(ws, "done")
            assert events[-1].status == "completed"  # the history stayed valid
            assert done_work == ["api", "web", "cache"]
    finally:
        await server.orchestrator.aclose()
        await runner.cleanup()


async def test_sse_clients_answer_with_post() -> None:
    done_work.clear()
    server, runner, host = await start([deploy_turn("api", "c1"), "Done."])
    try:
        async with aiohttp.ClientSession() as http:
            stream = await http.post(
                f"http://{host}/api/chat/stream", json={"message": "go", "conversation_id": "s"}
            )
            seen: list[str] = []
            call_id = ""
            async for raw in stream.content:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    seen.append(line[7:])
                if line.startswith("data: ") and seen[-1:] == ["tool_approval_request"]:
                    call_id = json.loads(line[6:])["data"]["call_id"]
                    bad = await http.post(f"http://{host}/api/approve", json={"call_id": call_id})
                    assert bad.status == 400
                    ok = await http.post(
                        f"http://{host}/api/approve",
                        json={"call_id": call_id, "decision": "allow", "conversation_id": "s"},
                    )
                    assert ok.status == 200 and (await ok.json())["found"] is True
                if line == "event: done":
                    break
            stream.close()
            late = await http.post(
                f"http://{host}/api/approve",
                json={"call_id": call_id, "decision": "deny", "conversation_id": "s"},
            )
            assert late.status == 404
        assert done_work == ["api"]
        assert seen.index("tool_approval_request") < seen.index("tool_call_start")
    finally:
        await server.orchestrator.aclose()
        await runner.cleanup()
