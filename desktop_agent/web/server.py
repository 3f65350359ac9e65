"""`desktop-agent serve`: runs streamed over Server-Sent Events and WebSocket.

Routes:
    POST /api/chat/stream   {"message", "conversation_id"?, "mode"?} -> text/event-stream
    GET  /chat/stream       ?message=&conversation_id=&mode=  (for EventSource)
    GET  /chat              WebSocket: {"message", "conversation_id"?} in, events out;
                            {"type": "cancel"} stops the current run;
                            {"type": "approve", "call_id", "decision"} answers a
                            tool_approval_request (decision: allow, always, deny)
    POST /api/approve       {"call_id", "decision", "conversation_id"?} (for SSE clients)
    GET  /                  the reference page (resources/web/)

Each SSE event is `id: <seq>`, `event: <type>`, `data: <event JSON>` (the wire form
of DESIGN.md); comments keep the connection alive while a tool runs; the stream
ends after `done`. Conversations are the orchestrator's tenants. A client that
goes away only stops watching: the run completes and its history stays.

Secure by default: loopback only unless a token is given; with a token every
request must carry it (`Authorization: Bearer`, or `?token=` for EventSource);
bodies over 64 KB get 413; bad JSON or no message 400; unknown routes 404, all
with a JSON error body; CORS only for `--cors-origin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from ..config import (
    ConnectionConfig,
    load_settings,
    model_from_config,
    resolve_auto,
    resource_path,
    with_stored_key,
)
from ..engine import AgentState, Event, Orchestrator, StreamMode
from ..engine.approval import DECISIONS

__all__ = ["ChatServer", "main"]

_log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ChatServer:
    """An aiohttp application around an `Orchestrator`."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        token: str | None = None,
        cors_origin: str | None = None,
        keepalive: float = 10.0,
    ) -> None:
        self.orchestrator = orchestrator
        self.token = token
        self.cors_origin = cors_origin
        self.keepalive = keepalive
        #: Open SSE/WebSocket streams (for tests and a clean shutdown).
        self.open_streams = 0
        self.app = web.Application(
            client_max_size=MAX_BODY, middlewares=[self._errors, self._auth, self._cors]
        )
        self.app.router.add_post("/api/chat/stream", self.post_stream)
        self.app.router.add_get("/chat/stream", self.get_stream)
        self.app.router.add_get("/chat", self.websocket)
        self.app.router.add_post("/api/approve", self.approve)
        self.app.router.add_get("/", self.index)
        self.app.router.add_static("/static/", resource_path("web"), show_index=False)

    # -- middlewares ------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"request body over {MAX_BODY // 1024} KB")
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is not None and request.method != "OPTIONS":
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            given = given or request.query.get("token", "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return _error(401, "a valid token is required")
        return await handler(request)

    @web.middleware
    async def _cors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = self.cors_origin is not None and origin == self.cors_origin
        if request.method == "OPTIONS":
            if not allowed:
                return _error(403, "cross-origin requests are not allowed")
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin or "",
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Authorization",
                },
            )
        response = await handler(request)
        if allowed and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin or ""
        return response

    # -- requests ---------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(resource_path("web", "index.html"))

    async def post_stream(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except web.HTTPRequestEntityTooLarge:
            raise
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not valid JSON")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        return await self._stream(request, body)

    async def get_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, dict(request.query))

    def _parse(self, body: dict[str, Any]) -> tuple[str, str, StreamMode] | web.Response:
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            return _error(400, "'message' must be a non-empty string")
        conversation = body.get("conversation_id") or f"conv_{uuid.uuid4().hex[:12]}"
        if not isinstance(conversation, str) or len(conversation) > 200:
            return _error(400, "'conversation_id' must be a string of at most 200 characters")
        try:
            mode = StreamMode(body.get("mode") or "events")
        except ValueError:
            modes = ", ".join(m.value for m in StreamMode)
            return _error(400, f"'mode' must be one of {modes}")
        return message, conversation, mode

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        parsed = self._parse(body)
        if isinstance(parsed, web.Response):
            return parsed
        message, conversation, mode = parsed
        run_id = f"run_{uuid.uuid4().hex[:16]}"
        sub = self.orchestrator.dispatcher.subscribe(run_id=run_id)
        handle = self.orchestrator.submit(message, tenant_id=conversation, run_id=run_id)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                "X-Conversation-Id": conversation,
            }
        )
        if self.cors_origin and request.headers.get("Origin") == self.cors_origin:
            response.headers["Access-Control-Allow-Origin"] = self.cors_origin
        self.open_streams += 1
        try:
            await response.prepare(request)
            counter = 0
            async for item in _with_keepalive(
                self.orchestrator.watch(handle, sub, mode), self.keepalive
            ):
                if item is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                counter += 1
                await response.write(_sse(item, counter))
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            # The client went away: it stops watching; the run goes on.
            _log.info("client left run %s; the run continues", run_id)
        finally:
            sub.close()
            self.open_streams -= 1
        return response

    def _answer(self, body: dict[str, Any], current: str | None) -> dict[str, Any]:
        """Pass an approval decision to the run waiting for it."""
        call_id = str(body.get("call_id") or "")
        decision = str(body.get("decision") or "")
        if decision not in DECISIONS or not call_id:
            return {
                "call_id": call_id,
                "found": False,
                "error": f"send call_id and a decision: one of {', '.join(DECISIONS)}",
            }
        target = body.get("conversation_id") or current
        found = self.orchestrator.approve(
            call_id, decision, tenant_id=str(target) if target else None
        )
        return {"call_id": call_id, "decision": decision, "found": found}

    async def approve(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "send a JSON object")
        answer = self._answer(body, None)
        if "error" in answer:
            return _error(400, answer["error"])
        return web.json_response(answer, status=200 if answer["found"] else 404)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_BODY)
        await ws.prepare(request)
        self.open_streams += 1
        forwarding: set[asyncio.Task[None]] = set()
        current: str | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    body = json.loads(msg.data)
                except json.JSONDecodeError:
                    await ws.send_json({"type": "error", "error": "not valid JSON"})
                    continue
                if not isinstance(body, dict):
                    await ws.send_json({"type": "error", "error": "send a JSON object"})
                    continue
                if body.get("type") == "cancel":
                    target = body.get("conversation_id") or current
                    cancelled = bool(target) and self.orchestrator.cancel(str(target))
                    await ws.send_json(
                        {"type": "cancelled", "conversation_id": target, "found": cancelled}
                    )
                    continue
                if body.get("type") == "approve":
                    answer = self._answer(body, current)
                    await ws.send_json({"type": "approval", **answer})
                    continue
                parsed = self._parse(body)
                if isinstance(parsed, web.Response):
                    await ws.send_json({"type": "error", "error": json.loads(parsed.text or "{}")})
                    continue
                message, current, mode = parsed
                run_id = f"run_{uuid.uuid4().hex[:16]}"
                sub = self.orchestrator.dispatcher.subscribe(run_id=run_id)
                handle = self.orchestrator.submit(message, tenant_id=current, run_id=run_id)
                task = asyncio.ensure_future(
                    self._forward(ws, self.orchestrator.watch(handle, sub, mode), sub)
                )
                forwarding.add(task)
                task.add_done_callback(forwarding.discard)
        finally:
            for task in list(forwarding):
                task.cancel()
            for task in list(forwarding):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.open_streams -= 1
        return ws

    @staticmethod
    async def _forward(
        ws: web.WebSocketResponse, items: AsyncIterator[Event | AgentState], sub: Any
    ) -> None:
        try:
            async for item in items:
                if ws.closed:
                    return
                await ws.send_str(json.dumps(_wire(item), ensure_ascii=False))
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            sub.close()


def _wire(item: Event | AgentState) -> dict[str, Any]:
    if isinstance(item, Event):
        return item.to_dict()
    return {"type": "values", "data": item.to_dict()}


def _sse(item: Event | AgentState, counter: int) -> bytes:
    if isinstance(item, Event):
        head = f"id: {item.seq}\nevent: {item.type.value}\n"
    else:
        head = f"id: {counter}\nevent: values\n"
    return (head + f"data: {json.dumps(_wire(item), ensure_ascii=False)}\n\n").encode()


async def _with_keepalive(
    items: AsyncIterator[Event | AgentState], interval: float
) -> AsyncIterator[Event | AgentState | None]:
    """The items, with a None whenever `interval` seconds pass without one.

    The pending read is kept across time-outs (never cancelled), so no event is lost.
    """
    iterator = aiter(items)
    pending: asyncio.Future[Event | AgentState] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield None
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield item
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending


async def serve(
    server: ChatServer, host: str, port: int, *, ready: Callable[[int], None] | None = None
) -> None:
    """Run until cancelled (or SIGINT/SIGTERM), then cancel the runs and close."""
    runner = web.AppRunner(server.app, access_log=None, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    if ready is not None:
        ready(bound)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.orchestrator.aclose(close_model=True)
        await runner.cleanup()


def main(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    cors_origin: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
) -> int:
    token = token or os.environ.get("DESKTOP_AGENT_TOKEN") or None
    if not is_loopback(host) and not token:
        sys.stderr.write(
            f"error: refusing to listen on {host} without a token: pass --token or set "
            "DESKTOP_AGENT_TOKEN (or bind 127.0.0.1)\n"
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = ConnectionConfig.resolve(base_url=base_url, model=model, saved=load_settings())

    async def run() -> None:
        from ..toolbox.catalog import configured_tools

        nonlocal config
        if config.kind == "auto":
            config, _found = await resolve_auto(config)
        config = with_stored_key(config)  # the key saved in Settings, from the keyring

        tools, approvals, problems = configured_tools()
        for problem in problems:
            _log.warning("%s", problem)
        orchestrator = Orchestrator(
            model_from_config(config),
            system_prompt=config.system_prompt,
            tools=tools,
            approvals=approvals,
        )
        server = ChatServer(orchestrator, token=token, cors_origin=cors_origin)

        def ready(bound: int) -> None:
            print(f"desktop-agent serving http://{host}:{bound}/ ({config.label()})", flush=True)

        await serve(server, host, port, ready=ready)

    try:
        asyncio.run(run())
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        return 1
    return 0
