"""`desktop-agent serve`: runs streamed over Server-Sent Events and WebSocket.

Routes:
    POST /api/chat/stream   {"message", "conversation_id"?, "mode"?} -> text/event-stream
    GET  /chat/stream       ?message=&conversation_id=&mode=  (for EventSource)
    GET  /chat              WebSocket: {"message", "conversation_id"?} in, events out;
                            {"type": "cancel"} stops the current run;
                            {"type": "approve", "call_id", "decision", "conversation_id"?}
                            answers a tool_approval_request (decision: allow, always,
                            deny; the conversation defaults to this socket's current one)
    POST /api/approve       {"call_id", "decision", "conversation_id"} (for SSE clients)
    POST /agui              AG-UI RunAgentInput -> AG-UI events (web/agui.py)
    GET  /                  the reference page (resources/web/)

Each SSE event is `id: <seq>`, `event: <type>`, `data: <event JSON>` (the wire form
of DESIGN.md); comments keep the connection alive while a tool runs; the stream
ends after `done`. Conversations are the orchestrator's tenants, recorded in the
history like the window's (the client's `conversation_id` is the stored id; a
known one continues where it was). A client that goes away only stops watching:
the run completes and its history stays.

Who may talk to it is `security.Gate`'s business (Host, Origin, token, JSON bodies).
A message may carry `"attachments": [{"name", "mime_type", "data" (base64)}, ...]`
(see `attachments_of`); bodies over 64 KB not counting the attachments' data, or
over 32 MB in all, get 413; bad JSON (too deeply nested included), no message or a
conversation id outside `[A-Za-z0-9_.:-]{1,128}` 400, before any run starts; unknown
routes 404, all with a JSON error body. At most `max_conversations` conversations are
kept (the least recently used idle ones are forgotten; 503 when every one is busy),
a connection that has not sent its request headers within `header_timeout`
seconds is closed, and a body not complete within `body_timeout` seconds gets 408
(and the connection is closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import uuid
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

from aiohttp import WSMsgType, web

from ..app.attachments import AttachmentLimits
from ..app.conversations import ConversationActions
from ..app.paths import resource_path
from ..app.session import Session
from ..engine import Orchestrator, StreamItem, StreamMode
from ..engine.approval import DECISIONS
from ..engine.model import ModelError
from ..engine.text import scrub_json
from .agui import AguiEndpoint
from .attachments import attachments_of, bounded_body
from .conversations import Conversations, valid_conversation_id
from .security import Gate, Handler, error_response, is_loopback, split_host, startup_token
from .wire import sse_frame, wire, with_keepalive

__all__ = ["ChatServer", "is_loopback", "main"]

_log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
#: A body with attachments (their base64 data included); the rest stays under MAX_BODY.
MAX_ATTACHMENT_BODY = 32 * 1024 * 1024
MAX_CONVERSATIONS = 100
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
_error = error_response


class BadRequest(Exception):
    """A request refused before anything started: (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _decode(data: str | bytes) -> dict[str, Any]:
    """A JSON object, or BadRequest(400) (not JSON, too deeply nested, not an object)."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise BadRequest(400, "the body is not valid JSON (or nested too deeply)") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "the body must be a JSON object")
    return scrub_json(body)  # type: ignore[no-any-return]  # "\ud800" -> U+FFFD


_bounded = bounded_body


class ChatServer:
    """An aiohttp application around an `Orchestrator`."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        token: str | None = None,
        cors_origin: str | None = None,
        public_hosts: Iterable[str] = (),
        keepalive: float = 10.0,
        max_conversations: int = MAX_CONVERSATIONS,
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        actions: ConversationActions | None = None,
        attachment_limits: AttachmentLimits | None = None,
    ) -> None:
        self.orchestrator = orchestrator
        #: Send, with the conversation read from the history first when it is kept
        #: (a session's); without one, conversations live in memory only.
        self.actions = actions or ConversationActions(orchestrator, None)
        #: What one message may attach (files, sizes, image side).
        self.attachment_limits = attachment_limits or AttachmentLimits()
        self.gate = Gate(token=token, cors_origin=cors_origin, public_hosts=public_hosts)
        self.keepalive = keepalive
        #: Seconds a POST body may take to arrive (after its headers), else 408.
        self.body_timeout = body_timeout
        self.conversations = Conversations(orchestrator, max_conversations)
        #: Open SSE/WebSocket streams (for tests and a clean shutdown).
        self.open_streams = 0
        # aiohttp arms its keep-alive timer when a connection is made and closes the
        # connection when it fires while no complete request has arrived: with the
        # handler arguments on the app, every runner gets this header deadline. After
        # an answer given before the body was read (401, 408...), aiohttp reads the
        # rest of it ("lingering") for at most the body deadline too.
        self.app = web.Application(
            client_max_size=MAX_ATTACHMENT_BODY,
            middlewares=[self._errors, *self.gate.middlewares],
            handler_args={"keepalive_timeout": header_timeout, "lingering_time": body_timeout},
        )
        self.app.router.add_post("/api/chat/stream", self.post_stream)
        self.app.router.add_get("/chat/stream", self.get_stream)
        self.app.router.add_get("/chat", self.websocket)
        self.app.router.add_post("/api/approve", self.approve)
        #: POST /agui: the AG-UI protocol (`web/agui.py`).
        self.agui = AguiEndpoint(self)
        self.app.router.add_post("/agui", self.agui.post)
        self.app.router.add_get("/", self.index)
        self.app.router.add_static("/static/", resource_path("web"), show_index=False)

    @property
    def token(self) -> str | None:
        return self.gate.token

    # -- middlewares ------------------------------------------------------------------

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as exc:
            response = _error(exc.status, exc.message)
            if exc.status == 408:
                response.force_close()  # no further request on this connection
            return response
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"request body over {MAX_ATTACHMENT_BODY // 2**20} MB")
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise

    # -- requests ---------------------------------------------------------------------

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(resource_path("web", "index.html"))

    async def _body(self, request: web.Request) -> dict[str, Any]:
        """The request's JSON object, read within `body_timeout` (else 408)."""
        try:
            async with asyncio.timeout(self.body_timeout):
                data = await request.read()
        except TimeoutError:
            raise BadRequest(
                408, f"the request body did not arrive within {self.body_timeout:g} s"
            ) from None
        return _bounded(_decode(data), len(data))

    async def post_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, await self._body(request))

    async def get_stream(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, scrub_json(dict(request.query)))

    def _parse(self, body: dict[str, Any]) -> tuple[str, str, StreamMode]:
        """(message, conversation, mode), with room made for the conversation; or
        BadRequest. Nothing has started when this raises."""
        message = body.get("message")
        files = bool(body.get("attachments"))  # attachments may go without text
        if not isinstance(message, str) or (not message.strip() and not files):
            raise BadRequest(400, "'message' must be a non-empty string (or \"\" with attachments)")
        conversation = body.get("conversation_id")
        if conversation is None or conversation == "":
            conversation = f"conv_{uuid.uuid4().hex[:12]}"
        elif not valid_conversation_id(conversation):
            raise BadRequest(
                400, "'conversation_id' must be 1-128 characters of A-Z a-z 0-9 _ . : -"
            )
        try:
            mode = StreamMode(body.get("mode") or "events")
        except ValueError:
            modes = ", ".join(m.value for m in StreamMode)
            raise BadRequest(400, f"'mode' must be one of {modes}") from None
        if not self.conversations.admit(conversation):
            raise BadRequest(
                503,
                f"all {self.conversations.limit} conversations are busy; "
                "try again when one finishes",
            )
        return message, conversation, mode

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        attachments = await attachments_of(body, self.attachment_limits)
        message, conversation, mode = self._parse(body)
        handle = self._send(conversation, message, attachments)
        events = handle.events(mode)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                "X-Conversation-Id": conversation,
                **self.gate.cors_headers(request),
            }
        )
        self.open_streams += 1
        try:
            await response.prepare(request)
            counter = 0
            async for item in with_keepalive(events, self.keepalive):
                if item is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                counter += 1
                await response.write(sse_frame(item, counter))
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            # The client went away: it stops watching; the run goes on.
            _log.info("client left run %s; the run continues", handle.run_id)
        finally:
            await events.aclose()
            self.open_streams -= 1
        return response

    def _send(self, conversation: str, message: str, attachments: list[Any]) -> Any:
        """Start the run; a model known to be blind to the images is a 400 at once."""
        try:
            return self.actions.send(
                conversation, message, attachments, limits=self.attachment_limits
            )
        except ModelError as exc:  # VisionUnsupportedError
            raise BadRequest(400, exc.message) from None
        except ValueError as exc:  # AttachmentError: too much for one message
            raise BadRequest(413, str(exc)) from None

    def _answer(self, body: dict[str, Any], current: str | None) -> dict[str, Any]:
        """Pass an approval decision to the run of the conversation it names."""
        call_id = body.get("call_id")
        decision = body.get("decision")
        target = body.get("conversation_id") or current
        shown = call_id if isinstance(call_id, str) else ""
        if decision not in DECISIONS or not isinstance(call_id, str) or not call_id:
            error = f"send call_id and a decision: one of {', '.join(DECISIONS)}"
            return {"call_id": shown, "found": False, "error": error}
        if not valid_conversation_id(target):
            error = "send the conversation_id of the run that asked"
            return {"call_id": shown, "found": False, "error": error}
        self.conversations.touch(target)
        found = self.orchestrator.approve(call_id, str(decision), tenant_id=target)
        return {"call_id": call_id, "decision": decision, "found": found}

    async def approve(self, request: web.Request) -> web.Response:
        answer = self._answer(await self._body(request), None)
        if "error" in answer:
            return _error(400, answer["error"])
        return web.json_response(answer, status=200 if answer["found"] else 404)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_ATTACHMENT_BODY)
        await ws.prepare(request)
        self.open_streams += 1
        forwarding: set[asyncio.Task[None]] = set()
        current: str | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    current = await self._on_message(ws, msg.data, current, forwarding)
                except BadRequest as exc:
                    error = {"status": exc.status, "message": exc.message}
                    await ws.send_json({"type": "error", "error": error})
        finally:
            for task in list(forwarding):
                task.cancel()
            for task in list(forwarding):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.open_streams -= 1
        return ws

    async def _on_message(
        self,
        ws: web.WebSocketResponse,
        data: str,
        current: str | None,
        forwarding: set[asyncio.Task[None]],
    ) -> str | None:
        """Act on one WebSocket message; the socket's current conversation after it."""
        body = _decode(data)
        if body.get("type") == "cancel":
            target = body.get("conversation_id") or current
            cancelled = valid_conversation_id(target) and self.orchestrator.cancel(target)
            await ws.send_json({"type": "cancelled", "conversation_id": target, "found": cancelled})
            return current
        if body.get("type") == "approve":
            await ws.send_json({"type": "approval", **self._answer(body, current)})
            return current
        attachments = await attachments_of(_bounded(body, len(data)), self.attachment_limits)
        message, current, mode = self._parse(body)
        handle = self._send(current, message, attachments)
        task = asyncio.ensure_future(self._forward(ws, handle.events(mode)))
        forwarding.add(task)
        task.add_done_callback(forwarding.discard)
        return current

    @staticmethod
    async def _forward(ws: web.WebSocketResponse, items: AsyncGenerator[StreamItem, None]) -> None:
        try:
            async for item in items:
                if ws.closed:
                    return
                await ws.send_str(json.dumps(wire(item), ensure_ascii=False))
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            await items.aclose()


async def serve(
    server: ChatServer,
    host: str,
    port: int,
    *,
    ready: Callable[[int], None] | None = None,
    session: Session | None = None,
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
        await server.agui.aclose()  # AG-UI threads waiting on their clients
        if session is not None:  # runs, MCP servers, the recorder, the models
            await session.aclose()
        else:
            await server.orchestrator.aclose(close_model=True)
        await runner.cleanup()


def serve_url(host: str, port: int, token: str | None) -> str:
    """The address to open, with the token in the fragment (`http://127.0.0.1:8765/#token=...`):
    a browser never sends a fragment to any server, so it is in no request and no log."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"#token={token}" if token else "")


def main(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    no_token: bool = False,
    cors_origin: str | None = None,
    public_hosts: Iterable[str] = (),
    max_conversations: int = MAX_CONVERSATIONS,
    base_url: str | None = None,
    model: str | None = None,
    save: bool = True,
) -> int:
    """`desktop-agent serve`; conversations are recorded in the history (a client's
    `conversation_id` is the stored conversation's id) unless `save=False`."""
    public_hosts = list(public_hosts)
    try:
        token = startup_token(host, token, no_token=no_token)
        if max_conversations < 1:
            raise ValueError("--max-conversations must be at least 1")
        for name in public_hosts:
            if split_host(name) is None:
                raise ValueError(f"--public-host {name!r} is not NAME or NAME:PORT")
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    server_options: dict[str, Any] = {
        "token": token,
        "cors_origin": cors_origin,
        "public_hosts": public_hosts,
        "max_conversations": max_conversations,
    }
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    session = Session.open(base_url=base_url, model=model, save=None if save else False)

    async def run() -> None:
        await session.start()
        for problem in session.problems:
            _log.warning("%s", problem)
        from ..app.settings import load_settings

        server = ChatServer(
            session.orchestrator,
            actions=session.conversations,
            attachment_limits=AttachmentLimits.from_settings(load_settings()),
            **server_options,
        )

        def ready(bound: int) -> None:
            print(
                f"desktop-agent serving {serve_url(host, bound, token)} ({session.config.label()})",
                flush=True,
            )

        await serve(server, host, port, ready=ready, session=session)

    try:
        asyncio.run(run())
    except OSError as exc:
        sys.stderr.write(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}\n")
        return 1
    return 0
