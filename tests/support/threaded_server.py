"""The scripted server on its own thread and loop, for tests whose own loop is Qt's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.scripted_server import ScriptedServer


@contextmanager
def threaded_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=serve, name="scripted-server", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the scripted server did not start")
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
