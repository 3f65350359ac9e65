"""What `desktop-agent serve` refuses, tried as an attacker on this machine would:
forged `Host` and `Origin` headers on raw sockets, a real WebSocket handshake from
another origin, `text/plain` POSTs, deeply nested JSON, CR/LF in ids, approvals
that name no conversation, idle conversations piling up, half-open connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets
from aiohttp import web

from desktop_agent import Orchestrator, tool
from desktop_agent.cli import build_parser
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.web.security import startup_token
from desktop_agent.web.server import ChatServer

ROOT = Path(__file__).resolve().parents[2]
done_work: list[str] = []


@tool("Deploy a service", side_effects=True)
def deploy(service: str) -> str:
    done_work.append(service)
    return f"{service} deployed"


def deploy_turn(service: str) -> Turn:
    return Turn(tool_calls=[ScriptedToolCall("deploy", {"service": service})])


class Served:
    def __init__(self, server: ChatServer, runner: web.AppRunner) -> None:
        self.server = server
        self.runner = runner
        self.port: int = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        self.orchestrator = server.orchestrator


@contextlib.asynccontextmanager
async def serving(turns: list[Turn | str] | None = None, **kwargs: Any) -> AsyncIterator[Served]:
    model = ScriptedModel(turns or ["hi"], loop=turns is None)
    server = ChatServer(Orchestrator(model, tools=[deploy]), keepalive=0.05, **kwargs)
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield Served(server, runner)
    finally:
        await server.orchestrator.aclose()
        await runner.cleanup()


async def raw(
    port: int,
    method: str,
    path: str,
    host: str | None,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, dict[str, str], bytes]:
    """One request on a raw socket (`Connection: close`): status, headers, body."""
    lines = [f"{method} {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, rest


JSON = {"Content-Type": "application/json"}


# -- Host: DNS rebinding ---------------------------------------------------------------


async def test_foreign_host_is_refused_on_every_route() -> None:
    async with serving() as s:
        body = json.dumps({"message": "x", "conversation_id": "rebound"}).encode()
        ws = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        }
        for host in ("attacker.example", f"attacker.example:{s.port}", "127.0.0.1:1", None):
            for method, path, headers, data in [
                ("GET", "/", {}, b""),
                ("GET", "/static/app.js", {}, b""),
                ("GET", "/chat/stream?message=x&conversation_id=rebound", {}, b""),
                ("POST", "/api/chat/stream", JSON, body),
                ("POST", "/api/approve", JSON, b'{"call_id": "c", "decision": "allow"}'),
                ("GET", "/chat", ws, b""),
            ]:
                status, _, rest = await raw(s.port, method, path, host, headers, data)
                if host is None:  # aiohttp's parser refuses it before any handler
                    assert status == 400
                    continue
                assert status == 403, (host, path, status)
                assert json.loads(rest)["error"]["status"] == 403
        assert s.orchestrator.tenants() == []  # nothing was started
        for host in (s.host, f"localhost:{s.port}", f"[::1]:{s.port}", f"LocalHost:{s.port}"):
            status, _, _ = await raw(s.port, "GET", "/", host)
            assert status == 200, host


async def test_public_host_is_accepted_when_configured() -> None:
    async with serving(public_hosts=["agent.example"]) as s:
        status, _, _ = await raw(s.port, "GET", "/", "agent.example")
        assert status == 200
        status, _, _ = await raw(s.port, "GET", "/", "other.example")
        assert status == 403


# -- Origin: cross-site requests ----------------------------------------------------------


async def test_cross_site_post_is_refused_and_starts_nothing() -> None:
    async with serving(cors_origin="https://app.example") as s:
        text = {"Content-Type": "text/plain", "Origin": "https://evil.example"}
        body = json.dumps({"message": "write evil.txt", "conversation_id": "evil"}).encode()
        status, _, rest = await raw(s.port, "POST", "/api/chat/stream", s.host, text, body)
        assert status == 403 and "origin" in json.loads(rest)["error"]["message"]
        # same origin, but not JSON: a form or a no-cors fetch cannot send this
        plain = {"Content-Type": "text/plain", "Origin": s.url}
        status, _, rest = await raw(s.port, "POST", "/api/chat/stream", s.host, plain, body)
        assert status == 415 and json.loads(rest)["error"]["status"] == 415
        status, _, _ = await raw(
            s.port, "POST", "/api/chat/stream", s.host, {"Origin": "null", **JSON}, body
        )
        assert status == 403
        # a cross-site GET without Origin (an <img>, a <script>): Sec-Fetch-Site says so
        status, _, _ = await raw(
            s.port, "GET", "/chat/stream?message=x", s.host, {"Sec-Fetch-Site": "cross-site"}
        )
        assert status == 403
        assert s.orchestrator.tenants() == []
        # the configured origin and the page's own origin may
        for origin in ("https://app.example", s.url):
            status, _, _ = await raw(
                s.port, "POST", "/api/chat/stream", s.host, {"Origin": origin, **JSON}, body
            )
            assert status == 200, origin


async def test_websocket_from_another_origin_is_refused() -> None:
    async with serving() as s:
        url = f"ws://{s.host}/chat"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, origin=websockets.Origin("https://evil.example")):
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(url, origin=websockets.Origin(s.url)) as ws:
            await ws.send(json.dumps({"message": "hello", "conversation_id": "mine"}))
            while json.loads(await ws.recv()).get("type") != "done":
                pass


# -- tokens ---------------------------------------------------------------------------------


async def test_token_bearer_scheme_query_only_for_get_streams() -> None:
    async with serving(token="s3cret") as s:
        body = json.dumps({"message": "x"}).encode()
        for scheme in ("bearer", "BEARER", "Bearer"):
            status, _, _ = await raw(
                s.port,
                "POST",
                "/api/chat/stream",
                s.host,
                {"Authorization": f"{scheme} s3cret", **JSON},
                body,
            )
            assert status == 200, scheme
        for wrong in ("Bearer s3cre", "Basic s3cret", "s3cret"):
            status, _, _ = await raw(
                s.port, "POST", "/api/chat/stream", s.host, {"Authorization": wrong, **JSON}, body
            )
            assert status == 401, wrong
        # ?token= is for EventSource and the WebSocket handshake only, never for a POST
        query = "/api/chat/stream?token=s3cret"
        status, _, _ = await raw(s.port, "POST", query, s.host, JSON, body)
        assert status == 401
        status, _, _ = await raw(s.port, "GET", "/chat/stream?message=x&token=s3cret", s.host)
        assert status == 200


async def test_token_never_travels_in_a_cookie() -> None:
    """A cookie for 127.0.0.1 reaches every port of 127.0.0.1 (cookies ignore ports): the
    token lives in the URL's fragment and the page's sessionStorage, never in a cookie."""
    async with serving(token="s3cret") as s:
        approve = b'{"call_id": "c", "decision": "allow", "conversation_id": "none"}'
        auth = {"Authorization": "Bearer s3cret"}
        seen: list[dict[str, str]] = []
        # the page and its script hold no secret: no token needed (Host/Origin still apply)
        for path in ("/", "/?token=s3cret", "/static/app.js"):
            status, got, _ = await raw(s.port, "GET", path, s.host)
            assert status == 200, path
            seen.append(got)
        for method, path, headers, data in [
            ("GET", "/chat/stream?message=x&token=s3cret", {}, b""),
            ("POST", "/api/chat/stream", {**auth, **JSON}, b'{"message": "x"}'),
            ("POST", "/api/approve", {**auth, **JSON}, approve),
        ]:
            status, got, _ = await raw(s.port, method, path, s.host, headers, data)
            assert status in (200, 404), path
            seen.append(got)
        assert all("set-cookie" not in headers for headers in seen)
        # a request carrying the token in the old cookie, and nothing else, is refused
        for name in (f"desktop-agent-token-{s.port}", "desktop-agent-token", "token"):
            cookie = {"Cookie": f"{name}=s3cret"}
            for method, path, headers, data in [
                ("GET", "/chat/stream?message=x", cookie, b""),
                ("POST", "/api/approve", {**cookie, **JSON}, approve),
                ("POST", "/api/chat/stream", {**cookie, **JSON}, b'{"message": "x"}'),
            ]:
                status, _, _ = await raw(s.port, method, path, s.host, headers, data)
                assert status == 401, (name, path)


# -- approvals name their conversation --------------------------------------------------------


async def _waiting_call(http: aiohttp.ClientSession, url: str, conversation: str) -> str:
    """Start a run and read its stream until it asks for approval; the call's id."""
    response = await http.post(
        f"{url}/api/chat/stream", json={"message": "deploy", "conversation_id": conversation}
    )
    event = ""
    async for raw_line in response.content:
        line = raw_line.decode().strip()
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "tool_approval_request":
            call_id: str = json.loads(line[6:])["data"]["call_id"]
            response.release()
            return call_id
    raise AssertionError("no approval request")


async def test_approve_needs_a_conversation_and_reaches_only_it() -> None:
    done_work.clear()
    turns: list[Turn | str] = [deploy_turn("alpha"), deploy_turn("beta"), "done."]
    async with serving(turns) as s, aiohttp.ClientSession() as http:
        a = await _waiting_call(http, s.url, "A")
        b = await _waiting_call(http, s.url, "B")
        for call_id in {a, b}:
            async with http.post(
                f"{s.url}/api/approve", json={"call_id": call_id, "decision": "always"}
            ) as r:
                assert r.status == 400
                assert "conversation_id" in (await r.json())["error"]["message"]
        async with http.post(
            f"{s.url}/api/approve", json={"call_id": b, "decision": "allow", "conversation_id": "B"}
        ) as r:
            assert r.status == 200 and (await r.json())["found"] is True
        for _ in range(500):
            if not s.orchestrator.busy("B"):
                break
            await asyncio.sleep(0.01)
        assert done_work == ["beta"]
        assert s.orchestrator.busy("A")  # still waiting for its own answer
        assert s.orchestrator.approvals.always == frozenset()
        async with websockets.connect(f"ws://{s.host}/chat") as ws:
            await ws.send(json.dumps({"type": "approve", "call_id": a, "decision": "allow"}))
            reply = json.loads(await ws.recv())
            assert reply["found"] is False and "conversation_id" in reply["error"]
        assert s.orchestrator.busy("A") and done_work == ["beta"]


# -- malformed input ------------------------------------------------------------------------


async def test_deeply_nested_json_is_a_400_on_http_and_an_error_on_the_websocket() -> None:
    nested = ('{"message": "x", "deep": ' + "[" * 30_000 + "]" * 30_000 + "}").encode()
    assert len(nested) < 64 * 1024
    async with serving() as s:
        for path in ("/api/chat/stream", "/api/approve"):
            status, got, rest = await raw(s.port, "POST", path, s.host, JSON, nested)
            assert status == 400, path
            assert got["content-type"].startswith("application/json")
            assert json.loads(rest)["error"]["status"] == 400
        async with websockets.connect(f"ws://{s.host}/chat") as ws:
            await ws.send(nested.decode())
            reply = json.loads(await ws.recv())
            assert reply["type"] == "error"
            await ws.send(json.dumps({"message": "still there?", "conversation_id": "n"}))
            while json.loads(await ws.recv()).get("type") != "done":
                pass


@pytest.mark.parametrize(
    "conversation", ["a\r\nX-Injected: 1", "x" * 129, "../etc", "a b", "é", 7, ["a"]]
)
async def test_conversation_id_is_checked_before_a_run_starts(conversation: Any) -> None:
    async with serving() as s, aiohttp.ClientSession() as http:
        async with http.post(
            f"{s.url}/api/chat/stream", json={"message": "x", "conversation_id": conversation}
        ) as r:
            assert r.status == 400
            assert "conversation_id" in (await r.json())["error"]["message"]
        if isinstance(conversation, str):
            async with http.get(
                f"{s.url}/chat/stream", params={"message": "x", "conversation_id": conversation}
            ) as r:
                assert r.status == 400
        async with websockets.connect(f"ws://{s.host}/chat") as ws:
            await ws.send(json.dumps({"message": "x", "conversation_id": conversation}))
            assert json.loads(await ws.recv())["type"] == "error"
        assert s.orchestrator.tenants() == []


# -- resources ------------------------------------------------------------------------------


async def test_idle_conversations_are_evicted_busy_ones_kept() -> None:
    turns: list[Turn | str] = [deploy_turn("alpha"), *(["ok"] * 10)]
    async with serving(turns, max_conversations=3) as s, aiohttp.ClientSession() as http:
        await _waiting_call(http, s.url, "busy")  # waits for approval: never evicted
        for i in range(6):
            async with http.post(
                f"{s.url}/api/chat/stream", json={"message": "hi", "conversation_id": f"c{i}"}
            ) as r:
                assert r.status == 200
                await r.read()
            assert len(s.orchestrator.tenants()) <= 3
        assert set(s.orchestrator.tenants()) == {"busy", "c4", "c5"}
        # a conversation used again moves to the back of the line
        async with http.post(
            f"{s.url}/api/chat/stream", json={"message": "again", "conversation_id": "c4"}
        ) as r:
            await r.read()
        async with http.post(
            f"{s.url}/api/chat/stream", json={"message": "hi", "conversation_id": "c6"}
        ) as r:
            await r.read()
        assert set(s.orchestrator.tenants()) == {"busy", "c4", "c6"}
        users = [m["content"] for m in s.orchestrator.messages("c4") if m["role"] == "user"]
        assert users == ["hi", "again"]


async def test_no_new_conversation_when_every_kept_one_is_busy() -> None:
    turns: list[Turn | str] = [deploy_turn("alpha"), deploy_turn("beta"), "ok"]
    async with serving(turns, max_conversations=2) as s, aiohttp.ClientSession() as http:
        await _waiting_call(http, s.url, "one")
        await _waiting_call(http, s.url, "two")
        async with http.post(
            f"{s.url}/api/chat/stream", json={"message": "hi", "conversation_id": "three"}
        ) as r:
            assert r.status == 503
            assert (await r.json())["error"]["status"] == 503
        assert set(s.orchestrator.tenants()) == {"one", "two"}


async def test_half_open_connections_are_closed() -> None:
    async with serving(header_timeout=0.3) as s:
        # one sends half a request and stops; one trickles a header byte at a time
        silent_r, silent_w = await asyncio.open_connection("127.0.0.1", s.port)
        silent_w.write(f"GET / HTTP/1.1\r\nHost: {s.host}\r\n".encode())
        trickle_r, trickle_w = await asyncio.open_connection("127.0.0.1", s.port)

        async def trickle() -> None:
            for byte in f"GET / HTTP/1.1\r\nHost: {s.host}\r\nX-Slow: ".encode() + b"a" * 10_000:
                trickle_w.write(bytes([byte]))
                await asyncio.sleep(0.02)

        writer = asyncio.ensure_future(trickle())
        try:
            # bounded waits (a hang is a failure), not a timing assertion
            assert await asyncio.wait_for(silent_r.read(), 20) == b""
            assert await asyncio.wait_for(trickle_r.read(), 20) == b""
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
            for w in (silent_w, trickle_w):
                w.close()
                with contextlib.suppress(ConnectionError):
                    await w.wait_closed()


async def test_a_body_that_trickles_in_gets_408() -> None:
    """After the headers (and the token), a POST announcing 60000 bytes and sending one
    now and then held its connection for as long as the client liked (issue 12 review)."""
    async with serving(token="s3cret", body_timeout=0.3) as s:
        for path in ("/api/chat/stream", "/api/approve"):
            reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {s.host}\r\nAuthorization: Bearer s3cret\r\n"
                "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"
            )
            writer.write(head.encode())

            async def trickle(w: asyncio.StreamWriter = writer) -> None:
                for _ in range(1000):
                    await asyncio.sleep(0.05)
                    w.write(b" ")

            sender = asyncio.ensure_future(trickle())
            try:
                # a bounded wait (a hang is a failure), not a timing assertion
                data = await asyncio.wait_for(reader.read(), 20)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await sender
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
            head_part, _, body = data.partition(b"\r\n\r\n")
            assert head_part.startswith(b"HTTP/1.1 408"), data[:200]
            assert json.loads(body)["error"]["status"] == 408
        assert s.orchestrator.tenants() == []


# -- start-up: a token unless explicitly opted out -----------------------------------------


def _serve_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DESKTOP_AGENT_"))}
    env.update(DESKTOP_AGENT_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


SERVE = [sys.executable, "-m", "desktop_agent", "serve", "--base-url", "http://127.0.0.1:9/v1"]


@pytest.mark.slow
async def test_serve_makes_a_token_and_prints_the_url_with_it(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *SERVE, "--model", "m", "--port", "0", env=_serve_env(tmp_path), stdout=PIPE, stderr=PIPE
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        # the token is in the fragment: a browser never sends it to any server
        match = re.search(r"(http://127\.0\.0\.1:\d+/)#token=([A-Za-z0-9_-]{32,}) ", line)
        assert match, line
        url, token = match.groups()
        api = f"{url}api/approve"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as r:
                assert r.status == 200  # the page holds no secret
            async with http.post(api, json={}) as r:
                assert r.status == 401
            async with http.post(api, json={}, headers={"Authorization": f"bearer {token}"}) as r:
                assert r.status == 400
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    # --no-token is for loopback only
    refused = await asyncio.create_subprocess_exec(
        *SERVE, "--host", "0.0.0.0", "--no-token", env=_serve_env(tmp_path), stderr=PIPE
    )
    _, err = await asyncio.wait_for(refused.communicate(), 60)
    assert refused.returncode == 2 and b"--no-token is only allowed on a loopback" in err


def test_startup_token_rules() -> None:
    made = startup_token("127.0.0.1", None, no_token=False, environ={})
    assert made and len(made) >= 32
    assert made != startup_token("127.0.0.1", None, no_token=False, environ={})
    env = {"DESKTOP_AGENT_TOKEN": "from-env"}
    assert startup_token("127.0.0.1", None, no_token=False, environ=env) == "from-env"
    assert startup_token("0.0.0.0", "given", no_token=False, environ=env) == "given"
    assert startup_token("::1", None, no_token=True, environ=env) is None
    with pytest.raises(ValueError, match="loopback"):
        startup_token("0.0.0.0", None, no_token=True, environ={})
    args = build_parser().parse_args(
        ["serve", "--no-token", "--public-host", "a.example", "--public-host", "b.example:8080"]
    )
    assert args.no_token and args.public_host == ["a.example", "b.example:8080"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--no-token", "--token", "t"])
