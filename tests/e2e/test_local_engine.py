"""The real embedded engine (llama.cpp + SmolLM2-135M): streaming, crashes, orphans."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_agent import Agent, EventType, StreamEngine
from desktop_agent.providers.discovery import loopback_get
from desktop_agent.providers.local import EmbeddedEngine, LocalModel
from tests.support.contract import check_run, text_of

pytestmark = pytest.mark.slow


def engine_children(parent: int | None = None) -> list[int]:
    """Pids of running engine children (of `parent`, when given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"desktop_agent.providers.engine_child" in cmd
        if ours and (parent is None or str(parent).encode() in cmd):
            found.append(int(entry.name))
    return found


def wait_until(predicate, what: str, limit: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


async def ask(model: LocalModel, prompt: str = "Say hello.") -> list:  # type: ignore[type-arg]
    agent = Agent("Answer in one short sentence.", model=model)
    return [e async for e in StreamEngine().stream(agent, prompt)]


async def test_agent_streams_a_real_reply() -> None:
    states: list[str] = []
    engine = EmbeddedEngine(on_state=lambda state, _msg: states.append(state))
    model = LocalModel(engine)
    try:
        events = await ask(model)
        check_run(events)  # type: ignore[arg-type]
        assert events[-1].status == "completed"
        assert text_of(events).strip()  # type: ignore[arg-type]
        assert states[:2] == ["loading", "ready"]
        pid = engine.pid
        assert pid is not None
    finally:
        await model.aclose()
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or engine_children() == [], "engine exit")
    assert states[-1] == "stopped"


async def test_crash_restarts_once_then_reports() -> None:
    states: list[tuple[str, str]] = []
    engine = EmbeddedEngine(on_state=lambda state, msg: states.append((state, msg)))
    model = LocalModel(engine)
    try:
        await engine.ensure_running()
        first = engine.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await asyncio.to_thread(wait_until, lambda: engine.process.poll() is not None, "the crash")  # type: ignore[union-attr]
        events = await ask(model)
        assert events[-1].status == "completed"
        assert engine.pid != first
        assert any(s == "restarting" and "stopped unexpectedly" in m for s, m in states)
        os.kill(engine.pid, signal.SIGKILL)  # type: ignore[arg-type]
        await asyncio.to_thread(wait_until, lambda: engine.process.poll() is not None, "the crash")  # type: ignore[union-attr]
        events = await ask(model)
        check_run(events)  # type: ignore[arg-type]
        error = next(e for e in events if e.type is EventType.ERROR)
        assert "crashed twice" in error.error
    finally:
        await model.aclose()


async def test_a_squatter_cannot_pose_as_the_engine() -> None:
    """Another local user races for the engine's port as soon as the app has picked it
    (before the child has loaded the model) and answers every request with 200. The
    port must already be held by the app, and the app must never talk to the squatter."""
    squatter_saw: list[bytes] = []

    async def fake_engine(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        squatter_saw.append(await reader.read(65536))
        body = b'{"object": "list", "data": [{"id": "SmolLM2-135M-Instruct"}]}'
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    engine = EmbeddedEngine()
    model = LocalModel(engine)
    squatter: asyncio.Server | None = None
    refused: list[OSError] = []

    async def squat() -> None:
        nonlocal squatter
        while engine.port is None:  # noqa: ASYNC110 (nothing signals it: the attacker polls)
            await asyncio.sleep(0.001)
        try:  # the strongest attempt a same-user squatter has: SO_REUSEADDR + SO_REUSEPORT
            squatter = await asyncio.start_server(
                fake_engine, "127.0.0.1", engine.port, reuse_address=True, reuse_port=True
            )
        except OSError as exc:
            refused.append(exc)

    squatting = asyncio.create_task(squat())
    try:
        await engine.ensure_running()
        await squatting
        events = await ask(model)
        assert events[-1].status == "completed"
        assert squatter_saw == []
        assert squatter is None and len(refused) == 1  # the port was never free to take
    finally:
        squatting.cancel()
        if squatter is not None:
            squatter.close()
        await model.aclose()


async def test_the_engine_refuses_requests_without_its_key() -> None:
    engine = EmbeddedEngine()
    model = LocalModel(engine)
    try:
        await engine.ensure_running()
        assert engine.port is not None and engine.pid is not None
        assert await loopback_get(engine.port, "/v1/models", 10) is None  # no key: 401
        status = await raw_status(engine.port, "/v1/models", "Bearer wrong")
        assert status == 401
        assert await raw_status(engine.port, "/v1/models", None) == 401
        assert await raw_status(engine.port, "/v1/models", f"Bearer {engine.api_key}") == 200
        # the key is not on the command line (readable by every local user)
        cmdline = Path(f"/proc/{engine.pid}/cmdline").read_bytes()  # noqa: ASYNC240
        assert engine.api_key.encode() not in cmdline
        events = await ask(model)  # the app's own client sends the key
        assert events[-1].status == "completed"
    finally:
        await model.aclose()


async def test_the_frozen_apps_engine_child_gets_the_socket_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The packaged app runs the child as `EXECUTABLE --engine-child ...`
    (`desktop_agent.packaging.frozen`): the inherited socket and the key work that way too."""
    executable = tmp_path / "desktop-agent"
    executable.write_text(
        f"#!{sys.executable}\nimport sys\n"
        "from desktop_agent.packaging.frozen import main\nsys.exit(main())\n"
    )
    executable.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(executable))
    engine = EmbeddedEngine()
    model = LocalModel(engine)
    try:
        await engine.ensure_running()
        assert engine.port is not None and engine.pid is not None
        cmdline = Path(f"/proc/{engine.pid}/cmdline").read_bytes().split(b"\0")  # noqa: ASYNC240
        assert b"--engine-child" in cmdline
        assert await raw_status(engine.port, "/v1/models", None) == 401
        events = await ask(model)
        assert events[-1].status == "completed"
    finally:
        await model.aclose()


async def raw_status(port: int, path: str, authorization: str | None) -> int:
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}Connection: close\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request.encode())
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    return int(status_line.split()[1])


@pytest.mark.parametrize("kind", ["missing", "not-gguf"])
async def test_bad_model_file_gives_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.gguf"
    if kind == "not-gguf":
        path.write_text("this is not a model")
    model = LocalModel(EmbeddedEngine(path))
    events = await ask(model)
    check_run(events)  # type: ignore[arg-type]
    error = next(e for e in events if e.type is EventType.ERROR).error
    expected = "does not exist" if kind == "missing" else "is not a GGUF model file"
    assert expected in error and str(path) in error
    assert model.engine.process is None
    await model.aclose()


def app_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        DESKTOP_AGENT_HOME=str(home),
        DESKTOP_AGENT_DISCOVERY_PORTS="none=9",  # nothing there: the embedded model is chosen
    )
    return env


def test_chat_local_streams(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop_agent", "chat", "--local", "Say hello."],
        env=app_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Loading SmolLM2-135M-Instruct on this computer" in result.stderr
    assert engine_children() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_engine_after_the_app_ends(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        app = subprocess.Popen(
            [sys.executable, "-m", "desktop_agent"],
            env=app_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until(lambda: bool(engine_children(app.pid)) or app.poll() is not None, "the engine")
        assert app.poll() is None, log.read_text()
        children = engine_children(app.pid)
        assert len(children) == 1
        app.send_signal(sig)
        app.wait(30)
        if sig is signal.SIGTERM:
            assert app.returncode == 0, log.read_text()
            assert "Traceback" not in log.read_text()
        wait_until(lambda: not Path(f"/proc/{children[0]}").exists(), "the engine to exit", 15)
    finally:
        if app.poll() is None:
            app.kill()
