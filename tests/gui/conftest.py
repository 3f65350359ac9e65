"""pytest-qt + qasync: a Qt event loop that is also the asyncio loop.

Tests are plain functions; `gui.run(coro)` drives a coroutine on the qasync loop
(so slots that start tasks find a running loop), `gui.until(...)` waits for a
condition with a hang guard. Anything that reaches the loop's exception handler
fails the test.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import qasync

from desktop_agent.app.providers import ConnectionConfig
from tests.support.scripted_server import ScriptedServer
from tests.support.threaded_server import threaded_server

if TYPE_CHECKING:
    from desktop_agent.gui.window import MainWindow

T = TypeVar("T")


class Gui:
    def __init__(self, loop: asyncio.AbstractEventLoop, qtbot: Any) -> None:
        self.loop = loop
        self.qtbot = qtbot
        self.errors: list[dict[str, Any]] = []

    def run(self, coro: Awaitable[T], timeout: float = 20) -> T:
        """Run the loop until `coro` is done.

        Not `run_until_complete`: qasync's version processes Qt events once more
        after the loop has stopped, which would step tasks with no running loop.
        """
        future = asyncio.ensure_future(asyncio.wait_for(coro, timeout), loop=self.loop)
        future.add_done_callback(lambda _f: self.loop.stop())
        while not future.done():
            self.loop.run_forever()
        return future.result()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Call `fn` with the loop running (as a slot would be)."""

        async def inside() -> T:
            return fn(*args)

        return self.run(inside())

    async def wait_for(self, predicate: Callable[[], bool], what: str, limit: float = 20) -> None:
        deadline = self.loop.time() + limit
        while not predicate():
            if self.loop.time() > deadline:
                raise AssertionError(f"gave up waiting for: {what}")
            await asyncio.sleep(0.01)

    def until(self, predicate: Callable[[], bool], what: str, timeout: float = 20) -> None:
        self.run(self.wait_for(predicate, what, timeout), timeout + 5)


@pytest.fixture(scope="session")
def qasync_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """One qasync loop for the whole session (several loops on one QApplication
    step on each other's timers)."""
    qapp.setQuitOnLastWindowClosed(False)  # as in the app: closing is the window's business
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    # Keep the loop's async-generator hooks in place between `run()` calls: a
    # generator collected while the loop is paused is then closed on the loop
    # (as in the app, whose loop never pauses), not without one.
    old_hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(
        firstiter=loop._asyncgen_firstiter_hook,  # type: ignore[attr-defined]
        finalizer=loop._asyncgen_finalizer_hook,  # type: ignore[attr-defined]
    )
    try:
        yield loop
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        sys.set_asyncgen_hooks(*old_hooks)
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def gui(qasync_loop: asyncio.AbstractEventLoop, qtbot: Any) -> Iterator[Gui]:
    loop = qasync_loop
    asyncio.set_event_loop(loop)
    helper = Gui(loop, qtbot)
    loop.set_exception_handler(lambda _loop, context: helper.errors.append(context))
    try:
        yield helper
        # Let finished tasks report, then fail on anything that went unhandled.
        gc.collect()
        helper.run(asyncio.sleep(0.05))
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            helper.run(asyncio.gather(*pending, return_exceptions=True))
        loop.set_exception_handler(None)
    assert not helper.errors, f"unhandled errors on the loop: {helper.errors}"


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    with threaded_server() as server:
        yield server


@pytest.fixture
def config(http_server: ScriptedServer) -> ConnectionConfig:
    return ConnectionConfig(
        kind="openai",
        base_url=http_server.base_url,
        model="scripted-small",
        api_key="sk-gui-test",
        system_prompt="sys",
    )


@pytest.fixture
def window(gui: Gui, config: ConnectionConfig) -> Iterator[MainWindow]:
    """A started window on the scripted server (shut down after the test)."""
    from tests.gui.test_window import make_window

    w = make_window(gui, config)
    yield w
    if not w.closed.is_set():
        gui.run(w.shutdown())


def answers_a_message(gui: Gui, window: MainWindow) -> None:
    """Send "Say hello." and wait for an answer with no error (a real model: 120 s)."""
    done = asyncio.Event()
    assert window.bridge is not None
    window.bridge.run_done.connect(lambda _d: done.set())
    gui.call(window.send, "Say hello.")
    gui.run(done.wait(), 120)
    assert (window.transcript.last_answer() or "").strip()
    assert window.transcript.last("error") is None
