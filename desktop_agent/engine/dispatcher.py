"""Fan-out of events to any number of subscribers, lossless for text.

`publish` never waits: each subscriber has its own buffer. When a subscriber falls
behind and its buffer fills, its pending text events (`MESSAGE_CHUNK`,
`REASONING_CHUNK`, `TOOL_CALL_ARGS`) of the same message or call are merged into
one event, so a slow reader costs neither the agent nor other readers any time and
never loses a character. Other events are never merged or dropped.

Memory: between two structural events (anything that is not text) a buffer holds at
most one merged event per text stream, so a buffer stays near `maxsize` events plus
the run's structural events. A subscriber that stops reading altogether for so long
that even its structural events pass `hard_limit` is closed with
`SubscriptionOverflow` (it is told, rather than silently losing events).

All methods must be called from the thread that runs the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from .events import Done, Event, TextEvent

__all__ = [
    "EventDispatcher",
    "Subscription",
    "SubscriptionClosed",
    "SubscriptionOverflow",
]

_log = logging.getLogger(__name__)

DEFAULT_MAXSIZE = 1024
DEFAULT_HARD_LIMIT = 100_000


class SubscriptionClosed(Exception):
    """`recv()` on a subscription that is closed and has nothing left to deliver."""


class SubscriptionOverflow(SubscriptionClosed):
    """The subscriber stopped reading for so long that it was disconnected."""


class Subscription:
    """One reader's view of a dispatcher: a bounded, merging buffer.

    Iterate it (`async for event in sub`) or call `await sub.recv()`; iteration ends
    when the subscription is closed (by `close()`, by the dispatcher, or - when it
    was made with `run_id` - after that run's `DONE`). Use it as a context manager
    to unsubscribe on exit.
    """

    def __init__(
        self,
        dispatcher: EventDispatcher,
        *,
        run_id: str | None,
        tenant_id: str | None,
        maxsize: int,
        hard_limit: int,
        close_on_done: bool,
    ) -> None:
        if maxsize < 2:
            raise ValueError("maxsize must be at least 2")
        self._dispatcher = dispatcher
        self.run_id = run_id
        self.tenant_id = tenant_id
        self.maxsize = maxsize
        self.hard_limit = max(hard_limit, maxsize)
        self._close_on_done = close_on_done
        self._buf: deque[Event] = deque()
        self._compact_at = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._overflowed = False
        #: How many events were merged away for this subscriber (a measure of lag).
        self.merged_events = 0

    # -- producer side (called by the dispatcher) ---------------------------------

    def _accepts(self, event: Event) -> bool:
        meta = event.meta
        if self.run_id is not None and meta.run_id != self.run_id:
            return False
        return self.tenant_id is None or meta.tenant_id == self.tenant_id

    def _push(self, event: Event) -> None:
        if self._closed:
            return
        buf = self._buf
        buf.append(event)
        if len(buf) >= self._compact_at and isinstance(event, TextEvent):
            self._compact()
        if len(buf) > self.hard_limit:
            self._overflowed = True
            buf.clear()
            self._close()
            return
        if self._close_on_done and isinstance(event, Done):
            self._close()
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _compact(self) -> None:
        """Merge pending text events per stream between structural events."""
        before = len(self._buf)
        out: list[Event | list[TextEvent]] = []
        open_groups: dict[tuple[type[Event], str], list[TextEvent]] = {}
        for event in self._buf:
            if not isinstance(event, TextEvent):
                out.append(event)
                open_groups.clear()
                continue
            key = (type(event), event.stream_key)
            group = open_groups.get(key)
            if group is None:
                group = [event]
                open_groups[key] = group
                out.append(group)
            else:
                group.append(event)
        merged: deque[Event] = deque()
        for item in out:
            if isinstance(item, Event):
                merged.append(item)
            elif len(item) == 1:
                merged.append(item[0])
            else:
                merged.append(_merge(item))
        self._buf = merged
        self.merged_events += before - len(merged)
        # Compact again only once the buffer has grown again as much: amortised O(1).
        self._compact_at = max(self.maxsize, 2 * len(merged))

    def _close(self) -> None:
        self._closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- consumer side ----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._buf)

    async def recv(self) -> Event:
        """The next event; raises `SubscriptionClosed` once closed and drained."""
        while not self._buf:
            if self._closed:
                if self._overflowed:
                    raise SubscriptionOverflow(
                        f"subscriber fell more than {self.hard_limit} events behind"
                    )
                raise SubscriptionClosed("subscription closed")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._buf.popleft()

    def recv_nowait(self) -> Event | None:
        """The next pending event, or None when nothing is pending."""
        return self._buf.popleft() if self._buf else None

    def drain_nowait(self) -> list[Event]:
        """Everything pending, at once (for renderers that update once a frame)."""
        events = list(self._buf)
        self._buf.clear()
        if self._compact_at > self.maxsize:
            self._compact_at = self.maxsize
        return events

    def close(self) -> None:
        """Stop receiving; pending events can still be read, then iteration ends."""
        self._dispatcher._remove(self)
        self._close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.recv()
        except SubscriptionOverflow:
            raise
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge(events: list[TextEvent]) -> TextEvent:
    """One event standing for consecutive text events of one stream."""
    return events[0].with_text("".join(e.text for e in events), sum(e.span for e in events))


class EventDispatcher:
    """Delivers every published event to every matching subscription."""

    def __init__(self, *, maxsize: int = DEFAULT_MAXSIZE, hard_limit: int = DEFAULT_HARD_LIMIT):
        self.maxsize = maxsize
        self.hard_limit = hard_limit
        self._subs: tuple[Subscription, ...] = ()
        self._listeners: tuple[Callable[[Event], None], ...] = ()

    def subscribe(
        self,
        *,
        run_id: str | None = None,
        tenant_id: str | None = None,
        maxsize: int | None = None,
        close_on_done: bool | None = None,
    ) -> Subscription:
        """A new subscription; with `run_id` it closes itself after that run's DONE."""
        sub = Subscription(
            self,
            run_id=run_id,
            tenant_id=tenant_id,
            maxsize=maxsize or self.maxsize,
            hard_limit=self.hard_limit,
            close_on_done=(run_id is not None) if close_on_done is None else close_on_done,
        )
        self._subs = (*self._subs, sub)
        return sub

    def add_listener(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener(event)` synchronously for every event; returns a remover.

        For cheap bookkeeping only (it runs inside `publish`); a listener that raises
        is removed so it cannot break the run.
        """
        self._listeners = (*self._listeners, listener)

        def remove() -> None:
            self._listeners = tuple(x for x in self._listeners if x is not listener)

        return remove

    def _remove(self, sub: Subscription) -> None:
        self._subs = tuple(s for s in self._subs if s is not sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def publish(self, event: Event) -> None:
        """Hand `event` to every matching subscriber. Never blocks."""
        for sub in self._subs:
            if sub._accepts(event):
                sub._push(event)
                if sub._closed:
                    self._remove(sub)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                self._listeners = tuple(x for x in self._listeners if x is not listener)
                _log.exception("event listener failed; removed")

    def close(self) -> None:
        """Close every subscription (their pending events can still be read)."""
        subs, self._subs = self._subs, ()
        for sub in subs:
            sub._close()
