"""`AguiAgent`: a remote AG-UI agent (LangGraph, Pydantic AI, ADK, CrewAI, ... or
another `desktop-agent serve`'s /agui) as a `ChatModel`.

Each request POSTs an AG-UI `RunAgentInput` (the conversation as AG-UI messages, the
app's tools as the client's tools, the last state the agent sent) to exactly the
configured URL and reads the agent's events, parsed with the official
`ag-ui-protocol` types:

* TEXT_MESSAGE_CONTENT / _CHUNK -> text; REASONING_MESSAGE_CONTENT / _CHUNK -> reasoning.
* TOOL_CALL_START / _ARGS / _CHUNK -> tool calls. A call the agent ran itself (its
  TOOL_CALL_RESULT arrives) ends the model step with finish "tool_calls"; the engine
  then takes the result from `remote_result` instead of running anything (the call
  is marked as run by the agent) and the next step continues the same AG-UI stream.
  A call without a result when the run finishes is one of the app's tools (AG-UI
  frontend tools): the app runs it and the next request carries the result.
* STATE_SNAPSHOT / STATE_DELTA (JSON Patch, applied with `jsonpatch`) -> `state`
  (viewable, and sent back with the next request).
* RUN_ERROR -> `ServerError` with the agent's message; RUN_FINISHED -> finish "stop";
  a stream that ends without either -> `BadResponseError` (never a success).

Bounds: one event at most `max_event_bytes` (else an error), at most `_MAX_OPEN`
runs kept open between steps (the oldest is closed), the connection timeout from
`Timeouts.connect` (the agent's first-token and idle watchdogs time the stream).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jsonpatch
import jsonpointer
from ag_ui.core import Event as AguiEvent
from ag_ui.core import EventType
from pydantic import TypeAdapter, ValidationError

from ..engine.model import (
    BadResponseError,
    ChatChunk,
    Message,
    ModelConnectionError,
    ModelRequestError,
    ServerError,
    Timeouts,
    ToolCallDelta,
)
from .agui_wire import agui_messages, thread_id_of

__all__ = ["AguiAgent"]

_log = logging.getLogger(__name__)

_EVENT: TypeAdapter[Any] = TypeAdapter(AguiEvent)
_KNOWN = frozenset(t.value for t in EventType)
_MAX_OPEN = 16
MAX_EVENT_BYTES = 1 << 20


@dataclass
class _RemoteRun:
    """One AG-UI run's open stream, read across model steps."""

    response: Any
    lines: AsyncIterator[str]
    data: list[str] = field(default_factory=list)
    #: Events read but given back to the next model step.
    pushed: list[dict[str, Any]] = field(default_factory=list)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.response.aclose()


class AguiAgent:
    """A `ChatModel` that is a remote AG-UI agent at `url`."""

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
        timeouts: Timeouts | None = None,
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self.url = url
        self.model = f"AG-UI agent · {urlsplit(url).netloc or url}"
        self.timeouts = timeouts or Timeouts()
        self.max_event_bytes = max_event_bytes
        sent = dict(headers or {})
        if api_key:
            sent.setdefault("Authorization", f"Bearer {api_key}")
        sent["Accept"] = "text/event-stream"
        connect = self.timeouts.connect
        self._http = httpx2.AsyncClient(
            headers=sent,
            timeout=httpx2.Timeout(connect=connect, read=None, write=connect, pool=connect),
        )
        #: The last STATE_SNAPSHOT per thread (viewable; sent back with the next run).
        self.state: dict[str, Any] = {}
        #: Results of calls the agent ran itself, by the agent's call id.
        self._results: dict[str, str] = {}
        #: Runs left open between steps, by the agent's ids of the calls that paused them.
        self._open: OrderedDict[frozenset[str], _RemoteRun] = OrderedDict()

    def __repr__(self) -> str:
        return f"AguiAgent(url={self.url!r})"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    async def aclose(self) -> None:
        for run in list(self._open.values()):
            await run.aclose()
        self._open.clear()
        await self._http.aclose()

    def state_of(self, messages: Sequence[Message]) -> Any:
        """The agent's last state for the conversation `messages` belong to (None: none)."""
        return self.state.get(thread_id_of(messages)) if messages else None

    def remote_result(self, provider_call_id: str | None) -> str | None:
        """The result of a call the agent ran itself (the engine shows it, runs
        nothing); None for a call the app has to run."""
        if provider_call_id is None:
            return None
        return self._results.pop(provider_call_id, None)

    # -- requests -----------------------------------------------------------------

    def _input(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] | None
    ) -> dict[str, Any]:
        thread = thread_id_of(messages)
        return {
            "threadId": thread,
            "runId": f"run-{uuid.uuid4().hex[:16]}",
            "state": self.state.get(thread, {}),
            "messages": agui_messages(messages),
            "tools": [
                {
                    "name": (t.get("function") or {}).get("name", ""),
                    "description": (t.get("function") or {}).get("description", ""),
                    "parameters": (t.get("function") or {}).get("parameters") or {},
                }
                for t in tools or ()
            ],
            "context": [],
            "forwardedProps": {},
        }

    def _paused(self, messages: Sequence[Message]) -> _RemoteRun | None:
        """The open run the history continues (its last assistant message's calls)."""
        for m in reversed(messages):
            if m.get("role") == "assistant":
                ids = frozenset(
                    str(c.get("provider_id") or c.get("id")) for c in m.get("tool_calls") or ()
                )
                return self._open.pop(ids, None) if ids else None
        return None

    async def _post(self, body: dict[str, Any]) -> _RemoteRun:
        request = self._http.build_request("POST", self.url, json=body)
        try:
            response = await self._http.send(request, stream=True)
        except httpx2.TimeoutException:
            raise ModelConnectionError(f"Timed out connecting to {self.host}.") from None
        except httpx2.HTTPError as exc:
            raise ModelConnectionError(
                f"Cannot reach the AG-UI agent at {self.host}: {exc}."
            ) from None
        if response.status_code != 200:
            detail = (await response.aread())[:300].decode(errors="replace")
            await response.aclose()
            cls = ServerError if response.status_code >= 500 else ModelRequestError
            raise cls(
                f"The AG-UI agent at {self.host} answered {response.status_code}: {detail}",
                status_code=response.status_code,
            )
        ctype = response.headers.get("content-type", "")
        if "text/event-stream" not in ctype:
            await response.aclose()
            raise BadResponseError(
                f"The AG-UI agent at {self.host} did not answer with an event stream ({ctype!r})."
            )
        return _RemoteRun(response, response.aiter_lines())

    async def stream_completion(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[ChatChunk]:
        run = self._paused(messages)
        if run is None:
            body = self._input(messages, tools)
            thread = body["threadId"]
            run = await self._post(body)
        else:
            thread = thread_id_of(messages)
        keep = False
        try:
            async for chunk, paused_on in self._read(run, thread):
                if paused_on:
                    keep = True
                    self._open[paused_on] = run
                    while len(self._open) > _MAX_OPEN:
                        _, oldest = self._open.popitem(last=False)
                        await oldest.aclose()
                yield chunk
        finally:
            if not keep:
                await run.aclose()

    async def _events(self, run: _RemoteRun) -> AsyncGenerator[dict[str, Any], None]:
        while run.pushed:
            yield run.pushed.pop(0)
        size = 0
        try:
            async for line in run.lines:
                if line:
                    if line.startswith("data:"):
                        piece = line[6:] if line.startswith("data: ") else line[5:]
                        size += len(piece)
                        if size > self.max_event_bytes:
                            raise BadResponseError(
                                f"The AG-UI agent at {self.host} sent an event over "
                                f"{self.max_event_bytes} bytes."
                            )
                        run.data.append(piece)
                    continue
                if not run.data:
                    continue
                payload = "\n".join(run.data)
                run.data.clear()
                size = 0
                try:
                    raw = json.loads(payload)
                except json.JSONDecodeError:
                    raise BadResponseError(
                        f"The AG-UI agent sent an event that is not JSON: {payload[:80]!r}"
                    ) from None
                if isinstance(raw, dict):
                    yield raw
        except httpx2.HTTPError as exc:
            raise ModelConnectionError(
                f"The connection to the AG-UI agent at {self.host} broke: {exc}."
            ) from None

    async def _read(
        self, run: _RemoteRun, thread: str
    ) -> AsyncGenerator[tuple[ChatChunk, frozenset[str] | None], None]:
        """(chunk, None) pieces; (finish chunk, call ids) when the step pauses on calls
        the agent ran; ends after RUN_FINISHED."""
        indexes: dict[str, int] = {}  # this step's calls: agent id -> index
        results: set[str] = set()
        async with contextlib.aclosing(self._events(run)) as events:
            async for raw in events:
                kind = raw.get("type")
                if kind not in _KNOWN:
                    continue  # an extension this client does not know
                try:
                    event = _EVENT.validate_python(raw)
                except ValidationError as exc:
                    raise BadResponseError(
                        f"The AG-UI agent sent a malformed {kind}: {exc.errors()[0]['msg']}"
                    ) from None
                etype = event.type
                if indexes and results >= set(indexes) and etype not in _TOOL_EVENTS:
                    # Every call of this step ran at the agent: the step ends here, and
                    # this event is given back for the next step (nothing is lost).
                    run.pushed.append(raw)
                    yield ChatChunk(finish_reason="tool_calls"), frozenset(indexes)
                    return
                for chunk in self._chunks(event, thread, indexes, results):
                    yield chunk, None
                if etype is EventType.RUN_FINISHED:
                    return
        raise BadResponseError(
            f"The AG-UI agent at {self.host} closed the stream before RUN_FINISHED."
        )

    def _chunks(
        self, event: Any, thread: str, indexes: dict[str, int], results: set[str]
    ) -> list[ChatChunk]:
        etype = event.type
        if etype in (EventType.TEXT_MESSAGE_CONTENT, EventType.TEXT_MESSAGE_CHUNK):
            return [ChatChunk(content=event.delta)] if event.delta else []
        if etype in (EventType.REASONING_MESSAGE_CONTENT, EventType.REASONING_MESSAGE_CHUNK):
            return [ChatChunk(reasoning=event.delta)] if event.delta else []
        if etype in (EventType.TOOL_CALL_START, EventType.TOOL_CALL_CHUNK):
            out = []
            cid = event.tool_call_id
            if cid and cid not in indexes:
                indexes[cid] = len(indexes)
                delta = ToolCallDelta(indexes[cid], cid, event.tool_call_name)
                out.append(ChatChunk(tool_calls=(delta,)))
            text = getattr(event, "delta", None)
            if cid and text:
                out.append(ChatChunk(tool_calls=(ToolCallDelta(indexes[cid], arguments=text),)))
            return out
        if etype is EventType.TOOL_CALL_ARGS:
            if event.tool_call_id in indexes and event.delta:
                delta = ToolCallDelta(indexes[event.tool_call_id], arguments=event.delta)
                return [ChatChunk(tool_calls=(delta,))]
            return []
        if etype is EventType.TOOL_CALL_RESULT:
            content = event.content
            if not isinstance(content, str):
                content = json.dumps([p.model_dump(by_alias=True) for p in content])
            self._results[event.tool_call_id] = content
            results.add(event.tool_call_id)
        elif etype is EventType.STATE_SNAPSHOT:
            self.state[thread] = event.snapshot
        elif etype is EventType.STATE_DELTA:
            try:
                patch = [
                    op.model_dump(by_alias=True, exclude_unset=True)
                    if hasattr(op, "model_dump")
                    else op
                    for op in event.delta
                ]
                self.state[thread] = jsonpatch.apply_patch(self.state.get(thread, {}), patch)
            except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                # As AG-UI's own client does: the state stays as it was, the run goes on.
                _log.warning("a STATE_DELTA from %s does not apply: %s", self.host, exc)
        elif etype is EventType.RUN_ERROR:
            raise ServerError(f"The AG-UI agent reported an error: {event.message}")
        elif etype is EventType.RUN_FINISHED:
            # Calls without a result are the app's tools (frontend tools): it runs them.
            pending = set(indexes) - results
            return [ChatChunk(finish_reason="tool_calls" if pending else "stop")]
        return []


_TOOL_EVENTS = frozenset(
    {
        EventType.TOOL_CALL_START,
        EventType.TOOL_CALL_ARGS,
        EventType.TOOL_CALL_END,
        EventType.TOOL_CALL_CHUNK,
        EventType.TOOL_CALL_RESULT,
    }
)
