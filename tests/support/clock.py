"""Waiting in tests without sleeping on the wall clock.

* `VirtualClockLoop`: an asyncio loop whose clock jumps to the next timer whenever
  nothing else can run. The engine and the recorder measure time only with the
  loop's clock (`loop.time()`, `call_later`, `asyncio.timeout`, `asyncio.sleep`), so
  on this loop their timeouts, stall watchdog, retry back-off and checkpoint
  intervals are injected time: a 30 s limit passes at once, and in order. Mark a
  test `@pytest.mark.virtual_clock` to run it on this loop (tests/conftest.py). Only
  for tests whose waits are all on the loop: a thread or a socket does not advance
  this clock, and a timer may fire before their answer arrives.
* `elapse(seconds)`: let virtual time pass (refuses to run on a real clock).
* `until(predicate, what)`: wait for a condition, polled, with a bound.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from typing import Any

__all__ = ["VirtualClockLoop", "elapse", "until"]


class _JumpingSelector(selectors.DefaultSelector):
    """A selector that, instead of blocking until the next timer, moves the clock."""

    def __init__(self, advance: Callable[[float], None]) -> None:
        super().__init__()
        self._advance = advance

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:  # no timer: only I/O (a thread's wake-up) can come
            return super().select(None)
        ready = super().select(0)
        if not ready and timeout > 0:
            self._advance(timeout)
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time, starting at 0."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_JumpingSelector(self._advance))

    def _advance(self, seconds: float) -> None:
        self._now += seconds

    def time(self) -> float:
        return self._now


async def elapse(seconds: float) -> None:
    """Let `seconds` of virtual time pass (with everything scheduled meanwhile)."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualClockLoop):
        raise RuntimeError("elapse() needs @pytest.mark.virtual_clock: it never sleeps for real")
    await asyncio.sleep(seconds)


async def until(predicate: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    """Wait until `predicate()` holds, checking every few milliseconds; fail after
    `limit` seconds (a guard against hanging, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        await asyncio.sleep(0.002)
