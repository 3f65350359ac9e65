"""`POST /agui` on a `Session` (as `serve` runs it): the AG-UI threadId is the
stored conversation, recorded in history.db like any other surface's."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from desktop_agent.app.paths import history_path
from desktop_agent.app.session import Session
from desktop_agent.storage import Store
from desktop_agent.testing import ScriptedModel
from desktop_agent.web.server import ChatServer
from tests.support.agui_check import parse_sse


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    return tmp_path


async def test_the_thread_is_a_stored_conversation() -> None:
    model = ScriptedModel(["Stored.", "Still stored."])
    session = Session.open(model_factory=lambda _config: model, use_mcp=False)
    await session.start()
    server = ChatServer(session.orchestrator, actions=session.conversations, keepalive=0.05)
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/agui"
    messages: list[dict[str, str]] = []
    try:
        async with aiohttp.ClientSession() as http:
            for n, text in enumerate(("first", "second")):
                messages.append({"id": f"u{n}", "role": "user", "content": text})
                body = {"threadId": "agui-thread-7", "runId": f"r{n}", "messages": messages}
                async with http.post(url, json=body) as response:
                    assert response.status == 200
                    events = parse_sse(await response.text())
                assert events[-1].type.value == "RUN_FINISHED"
    finally:
        await session.aclose()
        await runner.cleanup()
    store = Store(history_path(), session=False)
    try:
        kept = [(c.id, [m.content for m in store.path(c.id)]) for c in store.conversations()]
    finally:
        store.close()
    assert kept == [("agui-thread-7", ["first", "Stored.", "second", "Still stored."])]
