"""The wire forms a run leaves in: SSE frames and WebSocket messages, with keep-alives."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ..engine import AgentState, Event

__all__ = ["sse_frame", "wire", "with_keepalive"]


def wire(item: Event | AgentState) -> dict[str, Any]:
    if isinstance(item, Event):
        return item.to_dict()
    return {"type": "values", "data": item.to_dict()}


def sse_frame(item: Event | AgentState, counter: int) -> bytes:
    if isinstance(item, Event):
        head = f"id: {item.seq}\nevent: {item.type.value}\n"
    else:
        head = f"id: {counter}\nevent: values\n"
    return (head + f"data: {json.dumps(wire(item), ensure_ascii=False)}\n\n").encode()


async def with_keepalive(
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
