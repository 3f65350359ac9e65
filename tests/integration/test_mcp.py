"""MCP against a real server written with the `mcp` package (tests/support/mcp_server.py):
over stdio and over Streamable HTTP; tools listed, called through the agent with
approval, errors, images described, env isolation, a crash and a reconnect."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from desktop_agent import EventType, Orchestrator
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.tools.mcp import McpConnections, McpServerConfig, McpToolError, parse_mcp_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def stdio_config(name: str = "test", **env: str) -> McpServerConfig:
    [config], problems = parse_mcp_config(
        {
            "mcpServers": {
                name: {
                    "command": sys.executable,
                    "args": ["-m", "tests.support.mcp_server"],
                    "env": {"PYTHONPATH": str(ROOT), **env},
                    "cwd": str(ROOT),
                }
            }
        }
    )
    assert problems == []
    return config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.mcp_server", "--http", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the MCP HTTP server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
async def manager(tmp_path: Path) -> AsyncIterator[McpConnections]:
    managers: list[McpConnections] = []

    def make(*configs: McpServerConfig, imported: dict[str, str] | None = None) -> McpConnections:
        m = McpConnections(list(configs), imported=imported, log_folder=tmp_path / "logs")
        managers.append(m)
        return m

    yield make  # type: ignore[misc]
    for m in managers:
        await m.stop_all()


async def check_server(manager: McpConnections, name: str) -> None:
    server = manager.servers[name]
    assert server.status == "connected", server.error
    names = sorted(t.name for t in manager.tools())
    assert names == [f"{name}__{t}" for t in ("add", "crash", "echo_env", "fail", "picture")]
    tools = {t.name: t for t in manager.tools()}
    assert all(t.side_effects for t in tools.values())  # MCP calls ask first
    assert tools[f"{name}__add"].parameters["required"] == ["a", "b"]
    assert await tools[f"{name}__add"].invoke({"a": 2, "b": 40}) == "42"
    with pytest.raises(McpToolError, match="Error executing tool fail"):
        await tools[f"{name}__fail"].invoke({"message": "boom"})
    described = await tools[f"{name}__picture"].invoke({})
    assert described.startswith("[image: image/png, about") and "not shown" in described


async def test_stdio_server_tools_listed_and_called(manager) -> None:  # type: ignore[no-untyped-def]
    m = manager(stdio_config())
    await m.start_all()
    await check_server(m, "test")
    assert m.servers["test"].describe() == "connected, 5 tools"


async def test_streamable_http_server_tools_listed_and_called(manager, http_server: str) -> None:  # type: ignore[no-untyped-def]
    [config], _ = parse_mcp_config(
        {"mcpServers": {"web": {"url": http_server, "headers": {"X-Test": "1"}}}}
    )
    m = manager(config)
    await m.start_all()
    await check_server(m, "web")


async def test_servers_get_only_their_own_environment(
    manager, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-app-secret")
    monkeypatch.setenv("APP_PRIVATE", "private")
    m = manager(stdio_config(GIVEN="to-the-server"))
    await m.start_all()
    tools = {t.name: t for t in m.tools()}
    echo = tools["test__echo_env"]
    assert await echo.invoke({"name": "GIVEN"}) == "to-the-server"
    assert await echo.invoke({"name": "OPENAI_API_KEY"}) == "<unset>"
    assert await echo.invoke({"name": "APP_PRIVATE"}) == "<unset>"


async def test_a_crash_is_reported_and_a_restart_reconnects(manager) -> None:  # type: ignore[no-untyped-def]
    changes: list[str] = []
    m = manager(stdio_config())
    m.servers["test"].on_change = lambda s: changes.append(s.status)
    await m.start_all()
    tools = {t.name: t for t in m.tools()}
    with pytest.raises(McpToolError, match="closed the connection"):
        await tools["test__crash"].invoke({})
    server = m.servers["test"]
    assert server.status == "failed" and "closed the connection" in (server.error or "")
    assert m.tools() == []
    with pytest.raises(McpToolError, match="not connected"):
        await tools["test__add"].invoke({"a": 1, "b": 1})
    await server.restart()
    assert server.status == "connected"
    tools = {t.name: t for t in m.tools()}
    assert await tools["test__add"].invoke({"a": 1, "b": 1}) == "2"
    assert changes[-1] == "connected" and "failed" in changes


async def test_a_dead_server_is_noticed_without_a_call(manager) -> None:  # type: ignore[no-untyped-def]
    m = manager(stdio_config())
    await m.start_all()
    server = m.servers["test"]
    pids = [p for p in _children() if b"tests.support.mcp_server" in p[1]]
    assert pids
    for pid, _ in pids:
        os.kill(pid, 9)
    for _ in range(100):
        if server.status == "failed":
            break
        await asyncio.sleep(0.1)
    assert server.status == "failed", server.status


def _children() -> list[tuple[int, bytes]]:
    """(pid, command line) of this test process's children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid():
                found.append((int(entry.name), (entry / "cmdline").read_bytes()))
        except (OSError, ValueError, IndexError):
            pass
    return found


async def test_an_unconfirmed_server_is_not_started(manager) -> None:  # type: ignore[no-untyped-def]
    config = stdio_config()
    m = manager(config, imported={"test": ""})
    await m.start_all()
    server = m.servers["test"]
    assert server.status == "unconfirmed" and m.tools() == []
    assert "tests.support.mcp_server" in config.command_line()
    assert server.confirm(config.fingerprint)
    await server.start()
    assert server.status == "connected"


async def test_failures_to_start_say_why(manager) -> None:  # type: ignore[no-untyped-def]
    [missing], _ = parse_mcp_config({"mcpServers": {"gone": {"command": "no-such-command-xyz"}}})
    [refused], _ = parse_mcp_config({"mcpServers": {"off": {"url": "http://127.0.0.1:9/mcp"}}})
    m = manager(missing, refused)
    await m.start_all()
    assert m.servers["gone"].status == "failed"
    assert "no-such-command-xyz" in (m.servers["gone"].error or "")
    assert m.servers["off"].status == "failed" and m.servers["off"].error


def test_config_problems_are_reported() -> None:
    configs, problems = parse_mcp_config(
        {
            "mcpServers": {
                "ok": {"command": "x", "args": ["--a"], "env": {"K": "v"}},
                "bad name!": {"command": "x"},
                "nothing": {},
                "ftp": {"url": "ftp://x"},
            }
        }
    )
    assert [c.name for c in configs] == ["ok"]
    assert configs[0].command_line() == "K=v x --a"
    assert len(problems) == 3
    assert parse_mcp_config([])[1]


async def test_mcp_tools_need_approval_in_a_run(manager) -> None:  # type: ignore[no-untyped-def]
    m = manager(stdio_config())
    await m.start_all()
    model = ScriptedModel(
        [Turn(tool_calls=[ScriptedToolCall("test__add", {"a": 20, "b": 22}, id="c1")]), "42."]
    )
    orchestrator = Orchestrator(model, tools=m.tools())
    handle = orchestrator.submit("add", tenant_id="t")
    async for event in handle.events():
        if event.type is EventType.TOOL_APPROVAL_REQUEST:  # type: ignore[union-attr]
            call_id = event.call_id  # type: ignore[union-attr]
            assert handle.approve(call_id, "allow")
    state = await handle.wait()
    assert state.status == "done"
    assert {"role": "tool", "tool_call_id": call_id, "content": "42"} in state.messages
