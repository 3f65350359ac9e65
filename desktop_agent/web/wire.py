"""The wire forms a run leaves in: SSE frames and WebSocket messages, with keep-alives."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from ..engine import AgentState, StreamItem

__all__ = ["sse_frame", "wire", "with_keepalive"]


def wire(item: StreamItem) -> dict[str, Any]:
    """An event (or an UPDATES item: the event with its `changes`) in its wire form;
    a VALUES snapshot as `{"type": "values", "data": ...}`."""
    if isinstance(item, AgentState):
        return {"type": "values", "data": item.to_dict()}
    return item.to_dict()


def sse_frame(item: StreamItem, counter: int) -> bytes:
    if isinstance(item, AgentState):
        head = f"id: {counter}\nevent: values\n"
    else:
        head = f"id: {item.seq}\nevent: {item.type.value}\n"
    return (head + f"data: {json.dumps(wire(item), ensure_ascii=False)}\n\n").encode()


async def with_keepalive(
    items: AsyncIterator[StreamItem], interval: float
) -> AsyncIterator[StreamItem | None]:
    """The items, with a None whenever `interval` seconds pass without one.

    The pending read is kept across time-outs (never cancelled), so no event is lost.
    """
    iterator = aiter(items)
    pending: asyncio.Future[StreamItem] | None = None
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
