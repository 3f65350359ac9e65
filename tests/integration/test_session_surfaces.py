"""Every surface keeps its conversations: `chat` and `serve` run on a `Session` that
records into the same history.db as the window (the window's own recording is
covered by tests/gui/test_history_window.py)."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from desktop_agent.app.paths import history_path
from desktop_agent.app.session import Session
from desktop_agent.storage import Store
from desktop_agent.terminal import run_chat
from desktop_agent.testing import ScriptedModel
from desktop_agent.web.server import ChatServer


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    return tmp_path


def stored() -> list[tuple[str, list[str]]]:
    store = Store(history_path(), session=False)
    try:
        return [(c.id, [m.content for m in store.path(c.id)]) for c in store.conversations()]
    finally:
        store.close()


def scripted(*answers: str) -> Session:
    model = ScriptedModel(answers)
    return Session.open(model_factory=lambda _config: model, use_mcp=False)


async def test_chat_records_the_conversation() -> None:
    out, err = io.StringIO(), io.StringIO()
    status = await run_chat("hello there", scripted("General Kenobi."), out=out, err=err)
    assert status == 0, err.getvalue()
    [(conversation_id, messages)] = stored()
    assert conversation_id.startswith("c-")
    assert messages == ["hello there", "General Kenobi."]


async def test_chat_with_no_save_keeps_nothing() -> None:
    model = ScriptedModel(["ok"])
    session = Session.open(model_factory=lambda _config: model, use_mcp=False, save=False)
    assert await run_chat("hi", session, out=io.StringIO(), err=io.StringIO()) == 0
    assert stored() == []


async def test_the_save_history_setting_turns_recording_off(home: Path) -> None:
    (home / "settings.json").write_text('{"save_history": false}')
    session = scripted("ok")
    assert session.store is None
    assert await run_chat("hi", session, out=io.StringIO(), err=io.StringIO()) == 0
    assert stored() == []


async def test_serve_records_under_the_clients_conversation_id() -> None:
    session = scripted("Stored.", "Still stored.")
    await session.start()
    server = ChatServer(session.orchestrator, actions=session.conversations, keepalive=0.05)
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as http:
            for text in ("first", "second"):
                body = {"message": text, "conversation_id": "thread-42"}
                async with http.post(f"{url}/api/chat/stream", json=body) as response:
                    assert response.status == 200
                    await response.read()
    finally:
        await session.aclose()
        await runner.cleanup()
    assert stored() == [("thread-42", ["first", "Stored.", "second", "Still stored."])]
