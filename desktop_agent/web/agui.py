"""`POST /agui`: `serve` as an AG-UI agent (https://docs.ag-ui.com).

The body is an AG-UI `RunAgentInput` (camelCase); the answer is `text/event-stream`
of AG-UI events written by the official encoder (`ag_ui.encoder.EventEncoder`),
translated from the engine's events by `AguiTranslator`.

* `threadId` is the conversation (kept in the history like any other); the newest
  user message of `messages` is what the run answers (the rest of the history is
  the server's own).
* `tools` are frontend tools: offered to the model for this thread; when the model
  calls one the AG-UI run ends (`RUN_FINISHED`, outcome success with
  `pendingToolCallIds`), the engine's run waits, and the next `/agui` run of the
  thread carrying a `tool` message with that `toolCallId` gives it the result.
* A tool that needs approval ends the AG-UI run with an interrupt outcome (interrupt
  id = toolCallId); the next run's `resume` entry (`status` "resolved" with
  `payload.decision` allow | always | deny, or "cancelled" = deny) answers it and the
  same engine run continues.
* A thread left waiting longer than `resume_timeout` seconds is cancelled; a new user
  message on a waiting thread cancels the waiting run first.
* A client that goes away mid-stream only stops watching (as with `/api/chat/stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ag_ui.core import (
    AssistantMessage,
    DeveloperMessage,
    RunAgentInput,
    SystemMessage,
    TextPart,
    ToolMessage,
    UserMessage,
)
from ag_ui.encoder import EventEncoder
from aiohttp import web
from pydantic import ValidationError

from ..engine import StreamItem, StreamMode
from ..engine.approval import DECISIONS, DENY
from ..engine.events import Event, ToolApprovalRequest, ToolCallStart
from ..engine.handle import RunHandle
from ..engine.tools import Tool
from .agui_events import AguiTranslator
from .conversations import valid_conversation_id

if TYPE_CHECKING:
    from .server import ChatServer

__all__ = ["AguiEndpoint"]

_log = logging.getLogger(__name__)

RESUME_TIMEOUT = 600.0
#: Bytes a RunAgentInput may have (it carries the thread's whole history).
MAX_BODY = 2 * 1024 * 1024
_MAX_RUN_ID = 200


def _bad(status: int, message: str) -> Exception:
    from .server import BadRequest

    return BadRequest(status, message)


class _Watch:
    """An event stream read with time-outs; the pending read survives a pause (it is
    never cancelled while the stream is kept), so no event is lost across runs."""

    def __init__(self, items: AsyncGenerator[StreamItem, None]) -> None:
        self.items = items
        self._pending: asyncio.Future[StreamItem] | None = None

    async def next(self, interval: float) -> StreamItem | None:
        """The next item; None when `interval` seconds pass; StopAsyncIteration at the end."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self.items))
        done, _ = await asyncio.wait({self._pending}, timeout=interval)
        if not done:
            return None
        pending, self._pending = self._pending, None
        return pending.result()

    async def close(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await self._pending
        await self.items.aclose()


@dataclass
class _Thread:
    """A thread's engine run, kept between AG-UI runs while it waits on the client."""

    handle: RunHandle
    watch: _Watch
    frontend: frozenset[str]
    #: Frontend tool calls' results: futures not yet matched to a call, and by call id.
    unmatched: deque[asyncio.Future[str]] = field(default_factory=deque)
    calls: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    #: Approvals asked for and not answered (call ids).
    approvals: set[str] = field(default_factory=set)
    expiry: asyncio.TimerHandle | None = None


def _frontend_tool(thread: list[_Thread | None], spec: Any, timeout: float) -> Tool:
    """A client's tool: its call waits for the result the client sends next run."""

    async def run_on_client(**_arguments: Any) -> str:
        current = thread[0]
        assert current is not None
        result: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        current.unmatched.append(result)
        return await result

    parameters = spec.parameters if isinstance(spec.parameters, dict) else {"type": "object"}
    return Tool(
        name=spec.name,
        description=spec.description,
        parameters=parameters,
        fn=run_on_client,
        timeout=timeout,
    )


def chat_history(messages: list[Any]) -> list[dict[str, Any]]:
    """AG-UI messages as the engine's chat messages (user, assistant with its tool
    calls, tool results, system); other kinds (activity, reasoning) are left out."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, UserMessage):
            out.append({"role": "user", "content": _user_text(m)})
        elif isinstance(m, ToolMessage):
            content = m.content if isinstance(m.content, str) else str(m.content)
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": content})
        elif isinstance(m, AssistantMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": m.content or ""}
            if m.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in m.tool_calls
                ]
            out.append(entry)
        elif isinstance(m, (SystemMessage, DeveloperMessage)) and isinstance(m.content, str):
            out.append({"role": "system", "content": m.content})
    return out


def _user_text(message: UserMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "\n".join(part.text for part in content if isinstance(part, TextPart))


class AguiEndpoint:
    """The `/agui` route of a `ChatServer`."""

    def __init__(
        self,
        server: ChatServer,
        *,
        resume_timeout: float = RESUME_TIMEOUT,
        max_body: int = MAX_BODY,
    ) -> None:
        self.server = server
        self.max_body = max_body
        self.resume_timeout = resume_timeout
        self.encoder = EventEncoder()
        #: Threads whose engine run waits on the client (approval or frontend tool).
        self.waiting: dict[str, _Thread] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- input --------------------------------------------------------------------

    def _input(self, body: dict[str, Any]) -> RunAgentInput:
        try:
            given = RunAgentInput.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise _bad(400, f"not an AG-UI RunAgentInput: {where}: {first['msg']}") from None
        if not valid_conversation_id(given.thread_id):
            raise _bad(400, "'threadId' must be 1-128 characters of A-Z a-z 0-9 _ . : -")
        if not given.run_id or len(given.run_id) > _MAX_RUN_ID:
            raise _bad(400, f"'runId' must be 1-{_MAX_RUN_ID} characters")
        return given

    def _resolve(self, given: RunAgentInput, thread: _Thread) -> bool:
        """Answer what the waiting thread waits for from this input; False if the
        input answers nothing (it is a new message). Raises BadRequest on a wrong answer
        before changing anything."""
        decisions: dict[str, str] = {}
        for entry in given.resume or ():
            if entry.interrupt_id not in thread.approvals:
                raise _bad(400, f"no interrupt {entry.interrupt_id!r} waits in this thread")
            if entry.status == "cancelled":
                decisions[entry.interrupt_id] = DENY
                continue
            payload = entry.payload if isinstance(entry.payload, dict) else {}
            decision = payload.get("decision")
            if decision not in DECISIONS:
                raise _bad(400, f"resume payload.decision must be one of {', '.join(DECISIONS)}")
            decisions[entry.interrupt_id] = str(decision)
        results = {
            m.tool_call_id: m.content if isinstance(m.content, str) else str(m.content)
            for m in given.messages
            if isinstance(m, ToolMessage) and m.tool_call_id in thread.calls
        }
        if not decisions and not results:
            return False
        for call_id, decision in decisions.items():
            thread.approvals.discard(call_id)
            thread.handle.approve(call_id, decision)
        for call_id, text in results.items():
            future = thread.calls.pop(call_id)
            if not future.done():
                future.set_result(text)
        return True

    # -- the route ----------------------------------------------------------------

    async def _body(self, request: web.Request) -> dict[str, Any]:
        """The JSON body, up to `max_body` bytes (AG-UI clients send the whole
        history with every run: more than the other routes' 64 KB), within the
        server's body deadline."""
        from .server import _decode

        if (request.content_length or 0) > self.max_body:
            raise _bad(413, f"request body over {self.max_body // 1024} KB")
        data = bytearray()
        try:
            async with asyncio.timeout(self.server.body_timeout):
                while chunk := await request.content.read(1 << 16):
                    data += chunk
                    if len(data) > self.max_body:
                        raise _bad(413, f"request body over {self.max_body // 1024} KB")
        except TimeoutError:
            raise _bad(
                408, f"the request body did not arrive within {self.server.body_timeout:g} s"
            ) from None
        return _decode(bytes(data))

    async def post(self, request: web.Request) -> web.StreamResponse:
        server = self.server
        given = self._input(await self._body(request))
        thread_id = given.thread_id
        thread = self.waiting.get(thread_id)
        if thread is None and given.resume:
            raise _bad(400, "nothing waits in this thread: 'resume' answers no interrupt")
        if thread is not None and self._resolve(given, thread):
            del self.waiting[thread_id]
            if thread.expiry is not None:
                thread.expiry.cancel()
        else:
            last = given.messages[-1] if given.messages else None
            if not isinstance(last, UserMessage) or not _user_text(last).strip():
                raise _bad(400, "the last message must be the user's (or answer what waits)")
            if not server.conversations.admit(thread_id):
                raise _bad(503, "every conversation is busy; try again when one finishes")
            if thread is not None:
                await self._drop(thread_id)
            thread = self._start(given, _user_text(last))
        return await self._stream(request, given, thread)

    def _start(self, given: RunAgentInput, text: str) -> _Thread:
        server = self.server
        orchestrator = server.orchestrator
        box: list[_Thread | None] = [None]
        tools = [_frontend_tool(box, spec, self.resume_timeout) for spec in given.tools or ()]
        store = server.actions.store
        known = given.thread_id in orchestrator.tenants() or (
            store is not None and store.conversation(given.thread_id) is not None
        )
        server.actions.prepare(given.thread_id)
        if not known and len(given.messages) > 1:
            # A thread this server has not seen, with a history the client kept: the
            # run starts from that history (the newest user message is what it answers).
            orchestrator.set_messages(given.thread_id, chat_history(given.messages[:-1]))
        orchestrator.add_tools(given.thread_id, tools)
        handle = orchestrator.submit(text, tenant_id=given.thread_id)
        thread = _Thread(
            handle, _Watch(handle.events(StreamMode.EVENTS)), frozenset(t.name for t in tools)
        )
        box[0] = thread
        return thread

    async def _drop(self, thread_id: str) -> None:
        """Cancel a waiting thread's run and stop watching it."""
        thread = self.waiting.pop(thread_id, None)
        if thread is None:
            return
        if thread.expiry is not None:
            thread.expiry.cancel()
        thread.handle.cancel()
        await thread.watch.close()

    def _suspend(self, thread_id: str, thread: _Thread) -> None:
        self.waiting[thread_id] = thread

        def expire() -> None:
            if self.waiting.get(thread_id) is thread:
                _log.info("AG-UI thread %s was not resumed in time; cancelling", thread_id)
                task = asyncio.ensure_future(self._drop(thread_id))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        thread.expiry = asyncio.get_running_loop().call_later(self.resume_timeout, expire)

    async def _stream(
        self, request: web.Request, given: RunAgentInput, thread: _Thread
    ) -> web.StreamResponse:
        server = self.server
        translator = AguiTranslator(
            given.thread_id, given.run_id, state=given.state, frontend=thread.frontend
        )
        response = web.StreamResponse(
            headers={
                "Content-Type": self.encoder.get_content_type(),
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                **server.gate.cors_headers(request),
            }
        )
        encode = self.encoder.encode
        keep = False  # the engine run waits on the client: keep watching it
        server.open_streams += 1
        try:
            await response.prepare(request)
            await response.write(encode(translator.started()).encode())
            while True:
                try:
                    item = await thread.watch.next(server.keepalive)
                except StopAsyncIteration:
                    break
                if item is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                assert isinstance(item, Event)
                if (
                    isinstance(item, ToolCallStart)
                    and item.tool_name in thread.frontend
                    and thread.unmatched
                ):
                    thread.calls[item.call_id] = thread.unmatched.popleft()
                step = translator.feed(item)
                if isinstance(item, ToolApprovalRequest):
                    thread.approvals.add(item.call_id)
                if step.events:
                    await response.write("".join(encode(e) for e in step.events).encode())
                if step.ended:
                    keep = bool(thread.approvals or thread.calls)
                    break
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            _log.info("AG-UI client left run %s; the run continues", thread.handle.run_id)
        finally:
            server.open_streams -= 1
            if keep:
                self._suspend(given.thread_id, thread)
            else:
                await thread.watch.close()
        return response

    async def aclose(self) -> None:
        for thread_id in list(self.waiting):
            await self._drop(thread_id)
