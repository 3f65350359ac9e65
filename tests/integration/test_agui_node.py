"""`POST /agui` driven by the official TypeScript client, `@ag-ui/client`'s
`HttpAgent`, unchanged (Node): text, a tool the server runs, a frontend tool run by
the client and continued, an approval interrupt resumed, a failing run.

The client is installed from tests/support/agui-node/package-lock.json with
`npm ci` into a cache directory on first use (the npm registry must be reachable
then); skipped, with the reason, where Node or npm is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from desktop_agent import Orchestrator, tool
from desktop_agent.engine.model import ModelRequestError
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.server import ChatServer

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[1] / "support" / "agui-node"
deployed: list[str] = []


@tool("Add two numbers")
def add(a: int, b: int) -> int:
    return a + b


@tool("Deploy a service", side_effects=True)
def deploy(service: str) -> str:
    deployed.append(service)
    return f"{service} deployed"


def installed_client() -> Path:
    """A directory with node_modules/@ag-ui/client, installed once per lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for the @ag-ui/client test")
    lock = (PROJECT / "package-lock.json").read_bytes()
    base = Path(os.environ.get("DESKTOP_AGENT_NODE_CACHE", tempfile.gettempdir()))
    where = base / f"desktop-agent-agui-node-{hashlib.sha256(lock).hexdigest()[:12]}"
    if not (where / "node_modules" / "@ag-ui" / "client").is_dir():
        where.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PROJECT / name, where / name)
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=where,
            check=True,
            timeout=240,
        )
    shutil.copy(PROJECT / "run.mjs", where / "run.mjs")
    return where


def types(run: dict[str, Any]) -> list[str]:
    return [e["type"] for e in run["events"] if e["type"] != "STATE_SNAPSHOT"]


def text(run: dict[str, Any]) -> str:
    return "".join(e["delta"] for e in run["events"] if e["type"] == "TEXT_MESSAGE_CONTENT")


async def test_the_typescript_client_works_unchanged() -> None:
    where = installed_client()
    deployed.clear()
    model = ScriptedModel(
        [
            "Hello from the server.",
            Turn(tool_calls=[ScriptedToolCall("add", {"a": 2, "b": 40})]),
            "The sum is 42.",
            Turn(tool_calls=[ScriptedToolCall("get_weather", {"city": "Oslo"})]),
            "Oslo is sunny.",
            Turn(tool_calls=[ScriptedToolCall("deploy", {"service": "api"})]),
            "Deployed api.",
            Turn(error=ModelRequestError("upstream refused the request")),
        ]
    )
    orchestrator = Orchestrator(model, tools=[add, deploy])
    server = ChatServer(orchestrator, token="node-token-123")
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/agui"
    try:
        process = await asyncio.create_subprocess_exec(
            "node",
            "run.mjs",
            url,
            "node-token-123",
            cwd=where,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await server.agui.aclose()
        await orchestrator.aclose()
        await runner.cleanup()
    assert process.returncode == 0, stderr.decode()
    out = json.loads(stdout)

    assert out["text"]["failure"] is None
    assert types(out["text"])[0] == "RUN_STARTED" and types(out["text"])[-1] == "RUN_FINISHED"
    assert text(out["text"]) == "Hello from the server."
    assert out["text"]["events"][0]["threadId"] == "node-text"
    assert out["text"]["messages"][-1]["content"] == "Hello from the server."

    tools = out["tools"]
    assert tools["failure"] is None
    args = "".join(e["delta"] for e in tools["events"] if e["type"] == "TOOL_CALL_ARGS")
    assert json.loads(args) == {"a": 2, "b": 40}
    start = next(e for e in tools["events"] if e["type"] == "TOOL_CALL_START")
    result = next(e for e in tools["events"] if e["type"] == "TOOL_CALL_RESULT")
    assert result["toolCallId"] == start["toolCallId"] and result["content"] == "42"

    assert out["frontend1"]["failure"] is None
    assert out["frontendCall"]["function"]["name"] == "get_weather"
    assert out["frontend2"]["failure"] is None, out["frontend2"]
    assert text(out["frontend2"]) == "Oslo is sunny."
    assert [m["content"] for m in model.requests[4] if m["role"] == "tool"] == ["sunny, 21 C"]

    assert out["interrupt"]["reason"] == "tool_approval"
    assert out["approval2"]["failure"] is None, out["approval2"]
    assert text(out["approval2"]) == "Deployed api."
    assert deployed == ["api"]

    error = out["error"]
    assert "RUN_ERROR" in types(error)
    assert types(error)[-1] == "RUN_ERROR"
    assert "upstream refused the request" in error["events"][-1]["message"]
