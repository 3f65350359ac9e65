"""The Responses API wire (`POST {base}/responses`, `stream=true`) -> engine chunks.

Plain parsing (no HTTP, no openai package), like `openai_wire` for chat completions:

* `input_items`: the chat history as Responses input items (messages,
  `function_call` and `function_call_output` items); `response_tools`: tool schemas
  in the Responses shape (flat `name`/`parameters`).
* `read_response_events`: server-sent events -> `ChatChunk`s.
  `response.output_text.delta` -> text; `response.reasoning_text.delta` and
  `response.reasoning_summary_text.delta` -> reasoning;
  `response.output_item.added` (function_call) + `response.function_call_arguments.delta`
  / `.done` -> tool calls, with our own item id -> (index, call id, name) map (some
  servers omit the name on `done`, some send no deltas, only `done`);
  `response.completed` -> finish + usage; `response.incomplete` -> finish "length";
  `response.failed` / `error` -> `ServerError` with the server's message; a stream that
  ends before `response.completed` -> `BadResponseError`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.model import (
    BadResponseError,
    ChatChunk,
    Message,
    ServerError,
    ToolCallDelta,
    Usage,
)
from ..engine.text import scrub_json
from .openai_wire import wire_messages

__all__ = ["ResponseStream", "input_items", "read_response_events", "response_tools"]


def _text_of(content: Any, kind: str) -> Any:
    """Chat content (a string or parts) as Responses content."""
    if isinstance(content, str) or content is None:
        return content or ""
    parts = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"type": kind, "text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            parts.append({"type": "input_image", "image_url": str(url), "detail": "auto"})
    return parts


def input_items(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The history as Responses `input` items."""
    items: list[dict[str, Any]] = []
    for m in wire_messages(messages):
        role = m.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": str(m.get("tool_call_id", "")),
                    "output": m.get("content") if isinstance(m.get("content"), str) else "",
                }
            )
            continue
        if role == "assistant":
            text = m.get("content")
            if text:
                items.append({"role": "assistant", "content": _text_of(text, "output_text")})
            for call in m.get("tool_calls") or ():
                fn = call.get("function") or {}
                items.append(
                    {
                        "type": "function_call",
                        "call_id": str(call.get("id", "")),
                        "name": str(fn.get("name", "")),
                        "arguments": str(fn.get("arguments") or "{}"),
                    }
                )
            continue
        if role in ("system", "developer", "user"):
            items.append({"role": role, "content": _text_of(m.get("content"), "input_text")})
    return items


def response_tools(tools: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Chat-completions tool schemas in the Responses shape."""
    out = []
    for t in tools or ():
        fn = t.get("function") or {}
        out.append(
            {
                "type": "function",
                "name": fn.get("name", ""),
                "description": fn.get("description", ""),
                "parameters": fn.get("parameters") or {"type": "object", "properties": {}},
            }
        )
    return out


@dataclass
class _Call:
    index: int
    call_id: str
    name: str
    streamed: bool = False  # arguments arrived as deltas


@dataclass
class ResponseStream:
    """What one streamed response said besides its chunks (its id, for
    `previous_response_id`)."""

    response_id: str | None = None
    calls: dict[str, _Call] = field(default_factory=dict)  # item id -> call


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("input_tokens") or 0)
    completion = int(raw.get("output_tokens") or 0)
    return Usage(prompt, completion, int(raw.get("total_tokens") or prompt + completion))


def _failure(obj: dict[str, Any]) -> ServerError:
    response = obj.get("response") if isinstance(obj.get("response"), dict) else None
    err = (response or {}).get("error") if response else obj.get("error", obj)
    if isinstance(err, dict):
        message = str(err.get("message") or err.get("code") or err)
    else:
        message = str(obj.get("message") or err or "unknown error")
    return ServerError(f"The model server reported an error: {message}")


def _call_delta(
    state: ResponseStream, item_id: str, item: dict[str, Any] | None, name: str | None
) -> tuple[_Call, ToolCallDelta | None]:
    """The call of `item_id` (registered on first sight, with its first delta)."""
    call = state.calls.get(item_id)
    if call is not None:
        return call, None
    item = item or {}
    call = _Call(
        index=len(state.calls),
        call_id=str(item.get("call_id") or item_id),
        name=str(item.get("name") or name or ""),
    )
    state.calls[item_id] = call
    return call, ToolCallDelta(call.index, id=call.call_id, name=call.name or None)


def _chunk(kind: str, obj: dict[str, Any], state: ResponseStream) -> ChatChunk | None:
    if kind == "response.output_text.delta":
        delta = obj.get("delta")
        return ChatChunk(content=delta) if isinstance(delta, str) and delta else None
    if kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
        delta = obj.get("delta")
        return ChatChunk(reasoning=delta) if isinstance(delta, str) and delta else None
    if kind in ("response.output_item.added", "response.output_item.done"):
        item = obj.get("item")
        if not isinstance(item, dict) or item.get("type") != "function_call":
            return None
        item_id = str(item.get("id") or item.get("call_id") or "")
        call, first = _call_delta(state, item_id, item, None)
        deltas = [first] if first else []
        if kind == "response.output_item.done" and not call.streamed and item.get("arguments"):
            call.streamed = True
            deltas.append(ToolCallDelta(call.index, arguments=str(item["arguments"])))
        return ChatChunk(tool_calls=tuple(deltas)) if deltas else None
    if kind in ("response.function_call_arguments.delta", "response.function_call_arguments.done"):
        item_id = str(obj.get("item_id") or "")
        call, first = _call_delta(state, item_id, None, obj.get("name"))
        deltas = [first] if first else []
        if kind.endswith(".delta"):
            text = obj.get("delta")
            if isinstance(text, str) and text:
                call.streamed = True
                deltas.append(ToolCallDelta(call.index, arguments=text))
        elif not call.streamed:  # only `done` carried the arguments
            call.streamed = True
            deltas.append(ToolCallDelta(call.index, arguments=str(obj.get("arguments") or "")))
        return ChatChunk(tool_calls=tuple(deltas)) if deltas else None
    if kind == "response.created":
        response = obj.get("response")
        if isinstance(response, dict) and response.get("id"):
            state.response_id = str(response["id"])
        return None
    return None


async def read_response_events(
    lines: AsyncIterator[str], state: ResponseStream | None = None
) -> AsyncGenerator[ChatChunk, None]:
    """Server-sent events of a streamed response -> ChatChunks; raises on failures
    and on a stream that ends before `response.completed`."""
    state = state if state is not None else ResponseStream()
    data: list[str] = []
    completed = False
    loads = json.loads
    async for line in lines:
        if completed:
            continue  # read to the end of the body
        if line:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            continue  # "event:" repeats the JSON's type; comments are ignored
        if not data:
            continue
        payload = data[0] if len(data) == 1 else "\n".join(data)
        data = []
        if payload == "[DONE]":
            continue
        try:
            obj = loads(payload)
        except json.JSONDecodeError:
            raise BadResponseError(
                f"The model server sent an event that is not valid JSON: {payload[:80]!r}"
            ) from None
        if not isinstance(obj, dict):
            raise BadResponseError(f"Unexpected event from the model server: {payload[:80]!r}")
        if "\\u" in payload:
            obj = scrub_json(obj)
        kind = str(obj.get("type") or "")
        if kind in ("response.failed", "error"):
            raise _failure(obj)
        if kind in ("response.completed", "response.incomplete"):
            completed = True
            response = obj.get("response") if isinstance(obj.get("response"), dict) else {}
            if response.get("id"):
                state.response_id = str(response["id"])
            if kind == "response.incomplete":
                finish = "length"
            else:
                finish = "tool_calls" if state.calls else "stop"
            yield ChatChunk(finish_reason=finish, usage=_usage(response.get("usage")))
            continue
        chunk = _chunk(kind, obj, state)
        if chunk is not None:
            yield chunk
    if not completed:
        raise BadResponseError(
            "The connection closed before the answer was finished (no response.completed)."
        )
