"""Servers on their own thread and loop, for tests whose own loop is Qt's (or none)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from tests.support.scripted_server import ScriptedServer


class _Startable(Protocol):
    async def start(self) -> Any: ...
    async def stop(self) -> Any: ...


S = TypeVar("S", bound=_Startable)


@contextmanager
def on_own_loop(server: S, name: str) -> Iterator[S]:
    """`server.start()` on a new loop in a thread named `name`; stopped on exit."""
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=serve, name=name, daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError(f"the {name} did not start")
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@contextmanager
def threaded_server() -> Iterator[ScriptedServer]:
    with on_own_loop(ScriptedServer(), "scripted server") as server:
        yield server
