"""A lone surrogate ("\\ud800", or a file name decoded with surrogateescape) cannot be
encoded as UTF-8: in the history it stopped recording for the whole session, and in
a conversation's messages the openai client could not send them any more. Text
coming in (a client's JSON, a model's answer, a tool's result) gets U+FFFD instead,
and the recorder keeps recording after any failure.

Real sockets: `serve` on 127.0.0.1, the real openai client against the scripted
server, the real SQLite history, a real file with an undecodable byte in its name."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from desktop_agent.app.paths import history_path
from desktop_agent.app.session import Session
from desktop_agent.engine import Tool
from desktop_agent.engine.events import Done, MessageChunk
from desktop_agent.providers.openai import OpenAIClient
from desktop_agent.storage import Store
from desktop_agent.tools.workspace import workspace_tools
from desktop_agent.web.server import ChatServer
from tests.support.scripted_server import Reply, ScriptedServer

LONE = "\ud800"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    return tmp_path


def stored() -> dict[str, list[str]]:
    store = Store(history_path(), session=False)
    try:
        return {c.id: [m.content for m in store.path(c.id)] for c in store.conversations()}
    finally:
        store.close()


async def open_session(
    client: OpenAIClient, errors: list[str], tools: list[Tool] | None = None
) -> Session:
    session = Session.open(use_mcp=False, tools=tools or [])
    session.on_history_error = errors.append
    await session.start(start_mcp=False, model=client)
    return session


async def run(session: Session, conversation: str, message: str) -> tuple[str, str]:
    """(the answer's text, the run's final status)."""
    handle = session.conversations.send(conversation, message)
    text, status = "", ""
    async for event in handle.events():
        if isinstance(event, MessageChunk):
            text += event.chunk
        elif isinstance(event, Done):
            status = event.status
    return text, status


@pytest.fixture
async def client(server: ScriptedServer) -> AsyncIterator[OpenAIClient]:
    c = OpenAIClient(api_key="sk-test", model="scripted-small", base_url=server.base_url)
    yield c
    await c.aclose()


async def test_serve_json_with_a_lone_surrogate(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    errors: list[str] = []
    session = await open_session(client, errors)
    server.add(Reply("first answer"), Reply("second answer"))
    app = ChatServer(session.orchestrator, actions=session.conversations, keepalive=0.05)
    runner = web.AppRunner(app.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/chat/stream"
    bodies = [
        b'{"message": "hi \\ud800 there", "conversation_id": "surr"}',  # JSON's own escape
        b'{"message": "and now?", "conversation_id": "surr"}',
    ]
    answers = []
    try:
        async with aiohttp.ClientSession() as http:
            for body in bodies:
                headers = {"Content-Type": "application/json"}
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == 200
                    frames = (await response.read()).decode()
                answers.append(frames)
    finally:
        await session.aclose()
        await runner.cleanup()
    assert '"status": "completed"' in answers[1], answers[1][-300:]
    assert errors == []
    assert stored() == {"surr": ["hi \ufffd there", "first answer", "and now?", "second answer"]}
    assert LONE not in json.dumps(server.requests[-1].body, ensure_ascii=False)


async def test_model_answer_with_a_lone_surrogate(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    errors: list[str] = []
    session = await open_session(client, errors)
    # json.dumps sends it as the JSON escape "\ud800", as a server would
    server.add(Reply(f"bad {LONE} answer"), Reply("second answer"), Reply("third answer"))
    try:
        assert await run(session, "victim", "ask 1") == ("bad \ufffd answer", "completed")
        assert await run(session, "victim", "ask 2") == ("second answer", "completed")
        assert await run(session, "other", "ask 3") == ("third answer", "completed")
    finally:
        await session.aclose()
    assert errors == []
    assert stored() == {
        "victim": ["ask 1", "bad \ufffd answer", "ask 2", "second answer"],
        "other": ["ask 3", "third answer"],
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder holding a file whose name has a byte that is not UTF-8."""
    folder = tmp_path / "ws"
    folder.mkdir()
    Path(os.fsdecode(os.path.join(os.fsencode(folder), b"report\xff.txt"))).write_text("x")
    return folder


async def test_listing_a_file_with_an_undecodable_name(
    server: ScriptedServer, client: OpenAIClient, workspace: Path
) -> None:
    errors: list[str] = []
    session = await open_session(client, errors, workspace_tools(workspace))
    server.add(
        Reply(tool_calls=[["call_1", "list_files", '{"path": "."}']]),
        Reply("listed"),
        Reply("still here"),
    )
    try:
        assert await run(session, "files", "list my files") == ("listed", "completed")
        assert await run(session, "files", "and again?") == ("still here", "completed")
    finally:
        await session.aclose()
    assert errors == []
    history = stored()["files"]
    assert history[0] == "list my files" and history[-2:] == ["and again?", "still here"]
    assert "report\ufffd.txt  (1 bytes)" in history
    assert "report\ufffd.txt" in json.dumps(server.requests[-1].body, ensure_ascii=False)
