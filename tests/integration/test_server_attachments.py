"""`serve` takes attachments in the POST and WebSocket bodies (base64, name, MIME type)
and they reach the model as content parts (real openai client, scripted server)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import websockets
from aiohttp import web
from PIL import Image

from desktop_agent.app.attachments import AttachmentLimits
from desktop_agent.app.session import Session
from desktop_agent.web.server import ChatServer
from tests.support.attach_files import jpeg_with_gps, png
from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


class Served:
    def __init__(self, model_server: ScriptedServer, url: str) -> None:
        self.model_server = model_server
        self.url = url


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async with ScriptedServer() as model_server:
        model_server.default = Reply("Got it.")
        session = Session.open(base_url=model_server.base_url, model="m", use_mcp=False)
        await session.start(start_mcp=False)
        server = ChatServer(
            session.orchestrator,
            actions=session.conversations,
            keepalive=0.05,
            attachment_limits=AttachmentLimits(files=3),
        )
        runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield Served(model_server, f"http://127.0.0.1:{runner.addresses[0][1]}")
        finally:
            await session.aclose()
            await runner.cleanup()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_post_with_an_image_and_a_text_file(served: Served) -> None:
    photo = jpeg_with_gps(2600, 1300, orientation=1)  # ~ over 64 KB of base64: allowed
    body = {
        "message": "What do you see?",
        "attachments": [
            {"name": "photo.jpg", "mime_type": "image/jpeg", "data": b64(photo)},
            {"name": "notes.md", "mime_type": "text/markdown", "data": b64(b"# Notes\nhi")},
        ],
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{served.url}/api/chat/stream", json=body) as response,
    ):
        assert response.status == 200, await response.text()
        text = (await response.read()).decode()
    assert '"attachments": [{"sha256"' in text  # the user_message event names them
    assert "base64" not in text  # ... without their bytes
    parts = served.model_server.requests[-1].body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    data = base64.b64decode(parts[1]["image_url"]["url"].split(",", 1)[1])
    assert Image.open(io.BytesIO(data)).size == (2048, 1024)
    assert b"SecretCam" not in data
    assert parts[2]["text"] == "File: notes.md\n```\n# Notes\nhi\n```"


@pytest.mark.parametrize(
    ("attachments", "status", "message"),
    [
        ("x", 400, "'attachments' must be a list"),
        ([{"name": "a.txt", "data": "***"}], 400, "not valid base64"),
        ([{"data": b64(b"x")}], 400, "'name' must be a file name"),
        ([{"name": "b.png", "data": b64(b"\x89PNG\r\n\x1a\n" + bytes(30))}], 400, "b.png is"),
        ([{"name": f"{i}.txt", "data": b64(b"x")} for i in range(4)], 413, "up to 3"),
    ],
)
async def test_bad_attachments_are_refused_before_any_run(
    served: Served, attachments: object, status: int, message: str
) -> None:
    body = {"message": "hi", "attachments": attachments}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{served.url}/api/chat/stream", json=body) as response,
    ):
        assert response.status == status
        assert message in (await response.json())["error"]["message"]
    assert served.model_server.requests == []


async def test_the_body_beside_attachments_stays_bounded(served: Served) -> None:
    body = {"message": "x" * 70_000, "attachments": [{"name": "a.png", "data": b64(png())}]}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{served.url}/api/chat/stream", json=body) as response,
    ):
        assert response.status == 413
        assert "over 64 KB" in (await response.json())["error"]["message"]


async def test_websocket_message_with_an_attachment(served: Served) -> None:
    ws_url = served.url.replace("http://", "ws://") + "/chat"
    async with websockets.connect(ws_url, max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "message": "Look",
                    "attachments": [
                        {"name": "dot.png", "mime_type": "image/png", "data": b64(png())}
                    ],
                }
            )
        )
        while True:
            event = json.loads(await ws.recv())
            if event.get("type") == "done":
                break
    parts = served.model_server.requests[-1].body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]


async def test_attachments_may_go_without_text(served: Served) -> None:
    body = {"message": "", "attachments": [{"name": "dot.png", "data": b64(png())}]}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{served.url}/api/chat/stream", json=body) as response,
    ):
        assert response.status == 200, await response.text()
        await response.read()
    parts = served.model_server.requests[-1].body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["image_url"]
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{served.url}/api/chat/stream", json={"message": ""}) as response,
    ):
        assert response.status == 400  # no text and nothing attached
