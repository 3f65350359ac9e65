"""The scripted server's Responses API (`POST /v1/responses`): the same `Reply` script
as /v1/chat/completions, played as Responses stream events shaped exactly like
OpenAI's (each one validates against the openai SDK's `ResponseStreamEvent` types:
tests/integration/test_responses_wire.py proves it).

Reply fields used: text, reasoning (as `response.reasoning_text.delta`), tool_calls
(an output_item.added with the name, argument deltas, a `done` without a name),
chunk_size, delay, cut_after (end the body before `response.completed`),
reset_after, responses_failure (a `response.failed` with that message after the
text), responses_args_in_done (no argument deltas: only `done` carries them).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .scripted_server import Reply

__all__ = ["render_response_events", "stream_response"]

_EMPTY_DETAILS = {
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens_details": {"reasoning_tokens": 0},
}


def _response(
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": "resp_scripted",
        "object": "response",
        "created_at": 1700000000,
        "model": "scripted",
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": error,
        "usage": usage,
    }


def render_response_events(reply: Reply) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(body events, closing events) of a reply: cuts happen between the two."""
    size = max(1, reply.chunk_size)
    events: list[dict[str, Any]] = []
    output: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append({"type": kind, **fields})

    add("response.created", response=_response("in_progress", []))
    index = 0
    if reply.reasoning:
        rid = "rs_scripted"
        add(
            "response.output_item.added",
            output_index=index,
            item={"id": rid, "type": "reasoning", "summary": []},
        )
        for i in range(0, len(reply.reasoning), size):
            add(
                "response.reasoning_text.delta",
                item_id=rid,
                output_index=index,
                content_index=0,
                delta=reply.reasoning[i : i + size],
            )
        item = {
            "id": rid,
            "type": "reasoning",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": reply.reasoning}],
        }
        add("response.output_item.done", output_index=index, item=item)
        output.append(item)
        index += 1
    texts = (
        reply.chunks
        if reply.chunks is not None
        else [reply.text[i : i + size] for i in range(0, len(reply.text), size)]
    )
    if texts:
        mid = "msg_scripted"
        add(
            "response.output_item.added",
            output_index=index,
            item={
                "id": mid,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        )
        add(
            "response.content_part.added",
            item_id=mid,
            output_index=index,
            content_index=0,
            part={"type": "output_text", "text": "", "annotations": []},
        )
        for t in texts:
            add(
                "response.output_text.delta",
                item_id=mid,
                output_index=index,
                content_index=0,
                delta=t,
                logprobs=[],
            )
        whole = "".join(texts)
        add(
            "response.output_text.done",
            item_id=mid,
            output_index=index,
            content_index=0,
            text=whole,
            logprobs=[],
        )
        item = {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": whole, "annotations": []}],
        }
        add("response.output_item.done", output_index=index, item=item)
        output.append(item)
        index += 1
    for call_id, name, args in reply.tool_calls:
        fid = f"fc_{call_id}"
        add(
            "response.output_item.added",
            output_index=index,
            item={
                "id": fid,
                "type": "function_call",
                "call_id": call_id,
                "name": name,
                "arguments": "",
                "status": "in_progress",
            },
        )
        if not reply.responses_args_in_done:
            for i in range(0, len(args), size):
                add(
                    "response.function_call_arguments.delta",
                    item_id=fid,
                    output_index=index,
                    delta=args[i : i + size],
                )
        # like several servers: no name on `done`
        add(
            "response.function_call_arguments.done", item_id=fid, output_index=index, arguments=args
        )
        item = {
            "id": fid,
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": args,
            "status": "completed",
        }
        add("response.output_item.done", output_index=index, item=item)
        output.append(item)
        index += 1
    usage = {
        "input_tokens": 3,
        "output_tokens": len(events),
        "total_tokens": 3 + len(events),
        **_EMPTY_DETAILS,
    }
    if reply.responses_failure:
        error = {"code": "server_error", "message": reply.responses_failure}
        closing = [
            {"type": "response.failed", "response": _response("failed", output, None, error)}
        ]
    else:
        closing = [
            {"type": "response.completed", "response": _response("completed", output, usage)}
        ]
    for n, event in enumerate(events + closing):
        event["sequence_number"] = n
    return events, closing


async def stream_response(request: web.Request, reply: Reply) -> web.StreamResponse:
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    events, closing = render_response_events(reply)
    stop = reply.cut_after if reply.cut_after is not None else reply.reset_after
    body = events if stop is None else events[: 1 + stop]
    frames = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in body]
    if stop is None:
        frames += [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in closing]
    if reply.delay:
        for frame in frames:
            await asyncio.sleep(reply.delay)
            await resp.write(frame.encode())
    else:
        encoded = "".join(frames).encode()
        for i in range(0, len(encoded), 1 << 16):
            await resp.write(encoded[i : i + (1 << 16)])
    if reply.reset_after is not None and request.transport is not None:
        request.transport.abort()
        return resp
    await resp.write_eof()
    return resp
