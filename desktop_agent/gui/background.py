"""Coroutines the window starts and does not await (loading the model, starting the
MCP servers, closing): kept referenced until they end, cancelled on close."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = ["Background"]


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()
        self._closed: asyncio.Event | None = None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` on the loop (asyncio is imported at the first use, after the
        window is on screen)."""
        import asyncio

        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel(self) -> None:
        """Cancel every task but the one running this."""
        import asyncio

        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    @property
    def closed(self) -> asyncio.Event:
        """Set once the owner has shut down."""
        if self._closed is None:
            import asyncio

            self._closed = asyncio.Event()
        return self._closed
