"""Every surface keeps its conversations, as processes: `chat` then `history` then
`export`; `serve` with a client's conversation_id then `history`; two writers (a
window-like session and `serve`) on the same history.db at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_agent.storage import Store
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with threaded_server() as srv:
        yield srv


def env_for(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-kept", DESKTOP_AGENT_HOME=str(home))
    return env


def cli(home: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_agent", *args],
        env=env_for(home, base_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_chat_then_history_then_export(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="Paris is the capital."))
    chat = cli(tmp_path, server.base_url, "chat", "capital of France?")
    assert chat.returncode == 0, chat.stderr
    listed = cli(tmp_path, server.base_url, "history")
    assert listed.returncode == 0, listed.stderr
    assert "capital of France?" in listed.stdout
    conversation_id = listed.stdout.split()[0]
    exported = cli(tmp_path, server.base_url, "export", conversation_id, "--format", "json")
    assert exported.returncode == 0, exported.stderr
    contents = [m["content"] for m in json.loads(exported.stdout)["messages"]]
    assert contents == ["capital of France?", "Paris is the capital."]


def test_chat_with_no_save_leaves_no_history(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="Not kept."))
    chat = cli(tmp_path, server.base_url, "chat", "--no-save", "hello")
    assert chat.returncode == 0, chat.stderr
    assert "hello" not in cli(tmp_path, server.base_url, "history").stdout


#: A window-like writer: a session of its own on the same history.db, sending
#: `count` messages into conversation "window-conv" (a scripted model, no Qt).
WRITER = """
import asyncio, sys
from desktop_agent.app.session import Session
from desktop_agent.testing import ScriptedModel

async def main(count):
    model = ScriptedModel(["window answer"], loop=True)
    session = Session.open(model_factory=lambda _c: model, use_mcp=False)
    await session.start()
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        await session.conversations.send("window-conv", f"window {i}").wait()
    await session.aclose()

asyncio.run(main(int(sys.argv[1])))
"""


def start_serve(home: Path, base_url: str) -> tuple[subprocess.Popen[str], str]:
    serve = subprocess.Popen(
        [sys.executable, "-m", "desktop_agent", "serve", "--port", "0", "--no-token"],
        env=env_for(home, base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert serve.stdout is not None
    line = serve.stdout.readline()
    assert "serving" in line, line
    url = line.split()[2].split("?")[0].rstrip("/")
    return serve, url


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
    process.communicate(timeout=30)  # (closes its pipes)


def post(url: str, message: str, conversation_id: str) -> str:
    import urllib.request

    body = json.dumps({"message": message, "conversation_id": conversation_id}).encode()
    request = urllib.request.Request(
        f"{url}/api/chat/stream", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(response.read().decode())


def test_serve_with_a_conversation_id_then_history(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="Kept by serve."))
    serve, url = start_serve(tmp_path, server.base_url)
    try:
        assert '"done"' in post(url, "remember this", "thread-7")
    finally:
        stop(serve)
    listed = cli(tmp_path, server.base_url, "history")
    assert "remember this" in listed.stdout, listed.stdout + listed.stderr
    exported = cli(tmp_path, server.base_url, "export", "thread-7", "--format", "json")
    contents = [m["content"] for m in json.loads(exported.stdout)["messages"]]
    assert contents == ["remember this", "Kept by serve."]


def test_window_and_serve_write_the_same_history_at_once(
    tmp_path: Path, server: ScriptedServer
) -> None:
    count = 15
    for _ in range(count):
        server.add(Reply(text="serve answer"))
    serve, url = start_serve(tmp_path, server.base_url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(count)],
        env=env_for(tmp_path, server.base_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()  # the window-like writer starts; serve is written at once
        for i in range(count):
            post(url, f"serve {i}", "serve-conv")
        assert writer.wait(timeout=60) == 0
    finally:
        stop(serve)
        if writer.poll() is None:
            writer.kill()
        stop(writer)
    store = Store(tmp_path / "history.db", session=False)
    try:
        window = [m.content for m in store.path("window-conv")]
        served = [m.content for m in store.path("serve-conv")]
    finally:
        store.close()
    assert window == [x for i in range(count) for x in (f"window {i}", "window answer")]
    assert served == [x for i in range(count) for x in (f"serve {i}", "serve answer")]
