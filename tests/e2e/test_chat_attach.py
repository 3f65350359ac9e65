"""`desktop-agent chat --attach FILE ...` as a process against the scripted server."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.attach_files import jpeg_with_gps, pdf
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with threaded_server() as srv:
        yield srv


def chat(tmp_path: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-x", DESKTOP_AGENT_HOME=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", "chat", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_chat_attach_sends_the_files(tmp_path: Path, server: ScriptedServer) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps(2500, 2500, orientation=1))
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf(["Revenue up"]))
    server.add(Reply("Seen both."))
    result = chat(
        tmp_path, server.base_url, "--attach", str(photo), "--attach", str(report), "Look"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Seen both.\n"
    assert "attached photo.jpg" in result.stderr and "attached report.pdf" in result.stderr
    [request] = server.requests
    parts = request.body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text"]
    data = base64.b64decode(parts[1]["image_url"]["url"].split(",", 1)[1])
    assert Image.open(io.BytesIO(data)).size == (2048, 2048)
    assert b"SecretCam" not in data
    assert "Revenue up" in parts[2]["text"]


def test_chat_attach_refuses_a_corrupt_file_and_sends_nothing(
    tmp_path: Path, server: ScriptedServer
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    result = chat(tmp_path, server.base_url, "--attach", str(broken), "Look")
    assert result.returncode == 1
    assert "broken.png is damaged" in result.stderr
    assert server.requests == []
