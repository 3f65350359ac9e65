"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

Each POST to /v1/chat/completions plays the next scripted `Reply` (or `Fail`),
as a server-sent-event stream when the request asks for one, else as one JSON
completion. Replies can misbehave on purpose: cut the stream, reset the
connection, send a chunk that is not JSON, hang, or use the reasoning field of a
given server family. Every request is recorded.

In-process: `server = ScriptedServer(); await server.start(); server.add(Reply("hi"))`.
Another process: `python -m tests.support.scripted_server` prints the base URL,
and a POST of a JSON list of replies to /_script queues them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    """One scripted answer, and how to deliver it."""

    text: str = ""
    reasoning: str = ""
    #: "reasoning_content" (DeepSeek, vLLM, llama.cpp) or "reasoning" (Ollama, OpenRouter)
    reasoning_field: str = "reasoning_content"
    #: [[id, name, arguments JSON text], ...]
    tool_calls: list[list[str]] = field(default_factory=list)
    #: round-robin the calls' argument pieces, as parallel calls can arrive
    interleave_tools: bool = False
    chunk_size: int = 5
    #: exact chunk texts instead of splitting `text`
    chunks: list[str] | None = None
    #: seconds before each chunk
    delay: float = 0.0
    finish_reason: str | None = None
    usage: bool = True
    #: faults, counted in content/tool chunks sent before they happen
    cut_after: int | None = None
    reset_after: int | None = None
    malformed_after: int | None = None
    hang_after: int | None = None
    send_done: bool = True
    #: send no `finish_reason` at all (with send_done, a sloppy but complete server)
    omit_finish: bool = False
    #: ignore stream=true and answer with one JSON completion
    ignore_stream: bool = False
    #: /v1/responses only (tests/support/responses_server.py): a `response.failed`
    #: with this message instead of `response.completed`; arguments only on `done`
    responses_failure: str | None = None
    responses_args_in_done: bool = False


@dataclass
class Fail:
    """An HTTP error answer."""

    status: int = 500
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


def _chunk(
    delta: dict[str, Any], finish: str | None = None, model: str = "scripted"
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def render_chunks(reply: Reply) -> list[dict[str, Any]]:
    """The chunk objects of a reply (before faults)."""
    size = max(1, reply.chunk_size)
    out: list[dict[str, Any]] = [_chunk({"role": "assistant", "content": ""})]
    for i in range(0, len(reply.reasoning), size):
        out.append(_chunk({reply.reasoning_field: reply.reasoning[i : i + size]}))
    texts = (
        reply.chunks
        if reply.chunks is not None
        else [reply.text[i : i + size] for i in range(0, len(reply.text), size)]
    )
    out.extend(_chunk({"content": t}) for t in texts)
    per_call: list[list[dict[str, Any]]] = []
    for index, (call_id, name, args) in enumerate(reply.tool_calls):
        pieces = [
            {
                "index": index,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
        ]
        pieces += [
            {"index": index, "function": {"arguments": args[i : i + size]}}
            for i in range(0, len(args), size)
        ]
        per_call.append(pieces)
    if reply.interleave_tools:
        while any(per_call):
            for pieces in per_call:
                if pieces:
                    out.append(_chunk({"tool_calls": [pieces.pop(0)]}))
    else:
        for pieces in per_call:
            out.extend(_chunk({"tool_calls": [p]}) for p in pieces)
    return out


def finish_of(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def completion_json(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.reasoning:
        message[reply.reasoning_field] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
            for i, n, a in reply.tool_calls
        ]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_of(reply)}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


def count_tokens(text: str) -> int:
    """The scripted server's tokenizer: one token per 4 characters, rounded up (about what
    BPE tokenizers average on English)."""
    return -(-len(text) // 4)


def request_tokens(body: dict[str, Any]) -> int:
    """A chat request's tokens as the scripted server counts them: each message's content
    and tool calls plus 4 for its role markers, and the tool definitions."""
    total = 0
    for m in body.get("messages") or ():
        content = m.get("content")
        total += 4 + count_tokens(content if isinstance(content, str) else json.dumps(content))
        for call in m.get("tool_calls") or ():
            total += count_tokens(json.dumps(call.get("function") or {}))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


class ScriptedServer:
    """An OpenAI-compatible server that plays a script. Use as an async context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.script: deque[Reply | Fail] = deque()
        self.default: Reply | None = None
        self.requests: list[Recorded] = []
        #: `/v1/embeddings`: the requests' bodies, and words taken as the same concept
        #: (word -> concept); vectors are bags of concepts hashed into 64 dimensions.
        self.embedding_requests: list[dict[str, Any]] = []
        self.synonyms: dict[str, str] = {}
        #: Embedding models the endpoint knows (others get a 404).
        self.embedding_models = {"embed-small"}
        #: GET /models requests (Test connection, model lists), headers included.
        self.model_requests: list[Recorded] = []
        self.disconnects: list[float] = []
        self.models = ["scripted-small", "scripted-large"]
        #: more fields of a model's `/models` entry (OpenRouter's context_length, pricing)
        self.model_info: dict[str, dict[str, Any]] = {}
        #: LM Studio's `GET /api/v0/models` entries (404 when empty)
        self.lmstudio_models: list[dict[str, Any]] = []
        #: Ollama's `POST /api/show` answer per model (404 for others)
        self.ollama_show: dict[str, dict[str, Any]] = {}
        self.reject_stream_options = False
        self.reject_streaming = False
        self.require_key: str | None = None
        #: answer POST /v1/responses with 404, like a chat-only server
        self.no_responses = False
        #: When set: a request whose messages and tools count more tokens than this
        #: (`request_tokens`) is refused like OpenAI refuses it (400,
        #: context_length_exceeded), and `/props` reports it as llama.cpp's `n_ctx`.
        self.token_limit: int | None = None
        #: the token count of each chat request, as the limit counted it
        self.request_tokens: list[int] = []
        #: Asked first for each chat request's body: a reply for it, or None to play the
        #: script (e.g. answer summary requests apart from the conversation's turns).
        self.responder: Callable[[dict[str, Any]], Reply | Fail | None] | None = None
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def add(self, *items: Reply | Fail) -> None:
        self.script.extend(items)

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._chat)  # responses_server.py plays it
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/props", self._props)
        app.router.add_post("/tokenize", self._tokenize)
        app.router.add_post("/api/show", self._show)
        app.router.add_get("/api/v0/models", self._lmstudio)
        app.router.add_post("/_script", self._set_script)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers -----------------------------------------------------------------

    def embedding(self, text: str) -> list[float]:
        """A text's vector: its words' concepts (synonyms share one), hashed."""
        import re
        import zlib

        vector = [0.0] * 64
        for word in re.findall(r"\w+", text.lower()):
            concept = self.synonyms.get(word, word)
            vector[zlib.crc32(concept.encode()) % 64] += 1.0
        return vector

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.embedding_requests.append(body)
        if body.get("model") not in self.embedding_models:
            return self._error(404, f"The model {body.get('model')!r} does not exist")
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": self.embedding(t)}
            for i, t in enumerate(texts)
        ]
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": {}}
        )

    async def _models(self, request: web.Request) -> web.Response:
        self.model_requests.append(
            Recorded(request.path, {}, dict(request.headers), time.monotonic())
        )
        if (denied := self._check_key(request)) is not None:
            return denied
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", **self.model_info.get(m, {})} for m in self.models
                ],
            }
        )

    async def _props(self, request: web.Request) -> web.Response:
        if self.token_limit is None:
            return self._error(404, "no /props here")
        return web.json_response({"default_generation_settings": {"n_ctx": self.token_limit}})

    async def _lmstudio(self, request: web.Request) -> web.Response:
        if not self.lmstudio_models:
            return self._error(404, "not LM Studio")
        return web.json_response({"object": "list", "data": self.lmstudio_models})

    async def _show(self, request: web.Request) -> web.Response:
        body = await request.json()
        found = self.ollama_show.get(str(body.get("model")))
        return web.json_response(found) if found else self._error(404, "model not found")

    async def _tokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"tokens": list(range(count_tokens(str(body["content"]))))})

    async def _set_script(self, request: web.Request) -> web.Response:
        items = await request.json()
        for item in items:
            if item.pop("kind", "reply") == "fail":
                self.script.append(Fail(**item))
            else:
                self.script.append(Reply(**item))
        return web.json_response({"queued": len(self.script)})

    def _check_key(self, request: web.Request) -> web.Response | None:
        if self.require_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.require_key}":
            return web.json_response(
                {
                    "error": {
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                    }
                },
                status=401,
            )
        return None

    @staticmethod
    def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response(
            {"error": {"message": message, "type": "scripted", "code": status}},
            status=status,
            headers=headers,
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Recorded(request.path, body, dict(request.headers), time.monotonic()))
        if (denied := self._check_key(request)) is not None:
            return denied
        if self.no_responses and request.path.endswith("/responses"):
            return self._error(404, "Not Found")
        tokens = request_tokens(body)
        self.request_tokens.append(tokens)
        if self.token_limit is not None and tokens > self.token_limit:
            return web.json_response(
                {
                    "error": {
                        "message": f"This model's maximum context length is {self.token_limit} "
                        f"tokens. However, your messages resulted in {tokens} tokens. Please "
                        "reduce the length of the messages.",
                        "type": "invalid_request_error",
                        "param": "messages",
                        "code": "context_length_exceeded",
                    }
                },
                status=400,
            )
        streaming = bool(body.get("stream"))
        if streaming and self.reject_streaming:
            return self._error(400, "This server does not support streaming (stream=true).")
        if streaming and self.reject_stream_options and "stream_options" in body:
            return self._error(400, "Unrecognized request argument supplied: stream_options")
        routed = self.responder(body) if self.responder is not None else None
        if routed is not None:
            item: Reply | Fail = routed
        elif self.script:
            item = self.script.popleft()
        elif self.default is not None:
            item = self.default
        else:
            return self._error(500, "the scripted server has no reply queued")
        if isinstance(item, Fail):
            return self._error(item.status, item.message, item.headers)
        if request.path.endswith("/responses"):
            from .responses_server import stream_response

            return await stream_response(request, item)
        if not streaming or item.ignore_stream:
            return web.json_response(completion_json(item))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return await self._stream(request, item, include_usage)

    async def _stream(
        self, request: web.Request, reply: Reply, include_usage: bool
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        chunks = render_chunks(reply)
        tail: list[str] = []
        if not reply.omit_finish:
            tail.append(json.dumps(_chunk({}, finish_of(reply))))
        if include_usage and reply.usage:
            tail.append(
                json.dumps(
                    {
                        "id": "chatcmpl-scripted",
                        "object": "chat.completion.chunk",
                        "created": 1700000000,
                        "model": "scripted",
                        "choices": [],
                        "usage": {
                            "prompt_tokens": 3,
                            "completion_tokens": len(chunks),
                            "total_tokens": 3 + len(chunks),
                        },
                    }
                )
            )
        if reply.send_done:
            tail.append("[DONE]")
        faults = [
            x
            for x in (reply.cut_after, reply.reset_after, reply.malformed_after, reply.hang_after)
            if x is not None
        ]
        stop_at = min(faults) if faults else None
        # The first chunk (role only) is not counted as content.
        lines = [json.dumps(chunks[0])]
        body_chunks = chunks[1:]
        if stop_at is not None:
            body_chunks = body_chunks[:stop_at]
        lines += [json.dumps(c) for c in body_chunks]
        if stop_at is None:
            lines += tail
        try:
            if reply.delay:
                for line in lines:
                    await asyncio.sleep(reply.delay)
                    await resp.write(f"data: {line}\n\n".encode())
            else:
                encoded = "".join(f"data: {line}\n\n" for line in lines).encode()
                for i in range(0, len(encoded), 1 << 16):
                    await resp.write(encoded[i : i + (1 << 16)])
            if stop_at is not None:
                if stop_at == reply.malformed_after:
                    await resp.write(b'data: {"choices": [{"delta": {"content": "oops"\n\n')
                    await resp.write_eof()
                elif stop_at == reply.reset_after:
                    transport = request.transport
                    if transport is not None:
                        transport.abort()
                    return resp
                elif stop_at == reply.hang_after:
                    await self._hang(request)
                    return resp
                else:  # cut: end the body cleanly but early
                    await resp.write_eof()
                return resp
            await resp.write_eof()
        except (ConnectionResetError, ConnectionError):
            self.disconnects.append(time.monotonic())
        return resp

    async def _hang(self, request: web.Request) -> None:
        """Send nothing more; note when the client goes away."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            transport = request.transport
            if transport is None or transport.is_closing():
                self.disconnects.append(time.monotonic())
                return
            await asyncio.sleep(0.005)


def reply_dict(item: Reply | Fail) -> dict[str, Any]:
    data = asdict(item)
    data["kind"] = "fail" if isinstance(item, Fail) else "reply"
    return data


async def _serve(port: int) -> None:
    server = ScriptedServer(port=port)
    await server.start()
    print(server.base_url, flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
