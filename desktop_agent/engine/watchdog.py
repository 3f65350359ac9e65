"""A cheap watchdog for a stream that stops making progress: `StallWatch`.

Used by `run.py` for the model's first-token and idle limits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .model import ModelTimeoutError

__all__ = ["StallWatch"]


class StallWatch:
    """Times out the current task when a stream makes no progress for too long.

    Cheaper than rescheduling a timer per chunk: `progress()` only records the time,
    and the timer, when it fires, re-arms itself if progress was made meanwhile.
    """

    def __init__(self, first: float | None, idle: float | None) -> None:
        self.first = first
        self.idle = idle
        self.loop = asyncio.get_running_loop()
        self.started = self.last = self.loop.time()
        self.got_any = False
        self.expired: str | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelling = 0

    def progress(self) -> None:
        self.last = self.loop.time()
        if not self.got_any:
            # From now on the idle limit applies: re-arm for it.
            self.got_any = True
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
            self._arm()

    def __enter__(self) -> StallWatch:
        self._task = asyncio.current_task()
        if self._task is not None:
            self._cancelling = self._task.cancelling()
        self._arm()
        return self

    def _limit(self) -> float | None:
        return self.idle if self.got_any else self.first

    def _arm(self) -> None:
        limit = self._limit()
        if limit is not None:
            self._handle = self.loop.call_at(self.last + limit, self._fire)

    def _fire(self) -> None:
        self._handle = None
        limit = self._limit()
        if limit is None:
            return
        if self.loop.time() - self.last >= limit - 1e-3:
            if self.got_any:
                self.expired = f"no data from the model for {limit:g} s"
            else:
                self.expired = f"the model sent nothing for {limit:g} s"
            if self._task is not None:
                self._task.cancel()
        else:
            self._arm()

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if (
            self.expired
            and exc_type is asyncio.CancelledError
            and self._task is not None
            and self._task.uncancel() <= self._cancelling
        ):
            raise ModelTimeoutError(f"Timed out: {self.expired}.")
