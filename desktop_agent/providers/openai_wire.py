"""The chat-completions wire format: server-sent events and JSON -> engine chunks.

Plain parsing (no HTTP, no openai package): shared by `OpenAIClient` for streamed
and whole answers. Handles the shapes of OpenAI, Ollama, vLLM, LM Studio and
llama.cpp: interleaved tool-call deltas, `reasoning_content` / `reasoning`, the
usage-only final chunk, servers that omit `finish_reason` but send `[DONE]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from ..engine.model import (
    BadResponseError,
    ChatChunk,
    Completion,
    ContextLengthError,
    Message,
    ModelError,
    ServerError,
    ToolCallDelta,
    Usage,
    is_context_error,
)
from ..engine.text import scrub_json

__all__ = ["completion_chunk", "parse_completion", "read_sse", "wire_messages"]

_WIRE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def wire_messages(messages: Sequence[Message]) -> list[Message]:
    """History as the API takes it: app-only keys (reasoning...) dropped, and tool
    calls under the provider's own ids where it gave usable ones.

    The history names calls by the app's ids; a provider's id goes back on the wire
    only when it is a plain token not already used by another call of the history
    (a provider that repeats ids, or sends markup in them, gets the app's ids)."""
    out = []
    wire_ids: dict[str, str] = {}  # app id -> id on the wire
    taken: set[str] = set()
    for m in messages:
        calls = m.get("tool_calls") if m.get("role") == "assistant" else None
        if calls:
            m = {**m, "tool_calls": [_wire_call(c, wire_ids, taken) for c in calls]}
        elif m.get("role") == "tool" and m.get("tool_call_id") in wire_ids:
            m = {**m, "tool_call_id": wire_ids[m["tool_call_id"]]}
        content = m.get("content")
        if isinstance(content, list):  # content parts: the app's "attachment" keys dropped
            m = {**m, "content": [_wire_part(p) for p in content]}
        if all(k in _WIRE_KEYS for k in m):
            out.append(m)
        else:
            out.append({k: v for k, v in m.items() if k in _WIRE_KEYS})
    return out


def _wire_part(part: Any) -> Any:
    if isinstance(part, dict) and "attachment" in part:
        return {k: v for k, v in part.items() if k != "attachment"}
    return part


def _wire_call(call: dict[str, Any], wire_ids: dict[str, str], taken: set[str]) -> dict[str, Any]:
    app_id = str(call.get("id", ""))
    provider_id = call.get("provider_id")
    wire_id = app_id
    if (
        isinstance(provider_id, str)
        and _PLAIN_ID.fullmatch(provider_id)
        and provider_id not in taken
        and provider_id not in wire_ids
    ):
        wire_id = provider_id
    taken.add(wire_id)
    wire_ids[app_id] = wire_id
    return {k: (wire_id if k == "id" else v) for k, v in call.items() if k != "provider_id"}


async def read_sse(lines: AsyncIterator[str]) -> AsyncGenerator[ChatChunk, None]:
    """Server-sent events -> ChatChunks; raises on error events and cut streams."""
    data: list[str] = []
    event_name = ""
    finished = False  # saw a finish_reason
    done = False  # saw [DONE]
    loads = json.loads
    async for line in lines:
        if done:
            # Read on to the end of the body (a server may add a blank line or a
            # comment), so every generator under us finishes here, on the loop.
            continue
        if line:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            elif line.startswith("event:"):
                event_name = line[6:].strip()
            continue  # comments (":") and other fields are ignored
        if not data:
            continue
        payload = data[0] if len(data) == 1 else "\n".join(data)
        data = []
        if payload == "[DONE]":
            done = True
            continue
        try:
            obj = loads(payload)
        except json.JSONDecodeError:
            raise BadResponseError(
                f"The model server sent a chunk that is not valid JSON: {payload[:80]!r}"
            ) from None
        if "\\u" in payload:  # perhaps a lone surrogate ("\ud800"): U+FFFD for it
            obj = scrub_json(obj)
        if event_name == "error" or (isinstance(obj, dict) and "error" in obj):
            raise _stream_error(obj)
        event_name = ""
        chunk = _chunk(obj)
        if chunk is not None:
            if chunk.finish_reason:
                finished = True
            yield chunk
    if data and data[0] != "[DONE]":
        raise BadResponseError("The stream ended in the middle of a chunk.")
    if not finished:
        if not done:
            raise BadResponseError(
                "The connection closed before the answer was finished "
                "(no finish_reason and no [DONE])."
            )
        yield ChatChunk(finish_reason="stop")


def _chunk(obj: Any) -> ChatChunk | None:
    if not isinstance(obj, dict):
        raise BadResponseError(f"Unexpected chunk from the model server: {str(obj)[:80]!r}")
    usage = _usage(obj.get("usage"))
    choices = obj.get("choices")
    if not choices:
        return ChatChunk(usage=usage) if usage else None
    choice = choices[0]
    delta = choice.get("delta") or choice.get("message") or {}
    content = delta.get("content")
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    raw_calls = delta.get("tool_calls")
    finish = choice.get("finish_reason")
    if not (content or reasoning or raw_calls or finish or usage):
        return None
    calls: tuple[ToolCallDelta, ...] = ()
    if raw_calls:
        calls = tuple(_tool_delta(tc, i) for i, tc in enumerate(raw_calls))
    return ChatChunk(
        content=content or None,
        reasoning=reasoning if isinstance(reasoning, str) and reasoning else None,
        tool_calls=calls,
        finish_reason=finish,
        usage=usage,
    )


def _tool_delta(raw: dict[str, Any], position: int) -> ToolCallDelta:
    fn = raw.get("function") or {}
    args = fn.get("arguments")
    if args is not None and not isinstance(args, str):
        args = json.dumps(args)  # some servers send an object, not a JSON text
    index = raw.get("index")
    return ToolCallDelta(
        index=int(index) if index is not None else position,
        id=raw.get("id") or None,
        name=fn.get("name") or None,
        arguments=args or "",
    )


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    return Usage(
        int(raw.get("prompt_tokens") or 0),
        int(raw.get("completion_tokens") or 0),
        int(raw.get("total_tokens") or 0),
    )


def parse_completion(obj: Any) -> Completion:
    obj = scrub_json(obj)  # no lone surrogate gets into the history
    if not isinstance(obj, dict) or not obj.get("choices"):
        if isinstance(obj, dict) and "error" in obj:
            raise _stream_error(obj)
        raise BadResponseError(f"The server's answer has no choices: {str(obj)[:120]!r}")
    choice = obj["choices"][0]
    message = choice.get("message") or {}
    calls = tuple(_tool_delta(tc, i) for i, tc in enumerate(message.get("tool_calls") or ()))
    finish = choice.get("finish_reason") or ("tool_calls" if calls else "stop")
    return Completion(
        content=message.get("content") or "",
        reasoning=message.get("reasoning_content") or message.get("reasoning") or None,
        tool_calls=calls,
        finish_reason=finish,
        usage=_usage(obj.get("usage")),
    )


def completion_chunk(c: Completion) -> ChatChunk:
    return ChatChunk(
        content=c.content or None,
        reasoning=c.reasoning,
        tool_calls=c.tool_calls,
        finish_reason=c.finish_reason or "stop",
        usage=c.usage,
    )


def _stream_error(obj: Any) -> ModelError:
    err = obj.get("error") if isinstance(obj, dict) else None
    message = str(err.get("message") or err) if isinstance(err, dict) else str(err or obj)
    if is_context_error(message) or is_context_error(str(err)):
        return ContextLengthError(f"The conversation is longer than the model can take: {message}")
    return ServerError(f"The model server reported an error mid-stream: {message}")
