"""Shared fixtures: the scripted OpenAI-compatible server, and a guard that fails a
test when an asyncio task died with an exception nobody retrieved."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from tests.support.clock import VirtualClockLoop
from tests.support.scripted_server import ScriptedServer


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Tests marked `virtual_clock` run on a loop whose time jumps ahead when idle;
    the others on asyncio's own loop."""
    if item.get_closest_marker("virtual_clock") is not None:
        return {"virtual_clock": VirtualClockLoop}
    return {"asyncio": asyncio.new_event_loop}


class _AsyncioErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_asyncio_errors() -> Iterator[None]:
    """Unhandled task exceptions reach the loop's exception handler, which logs them
    on the 'asyncio' logger: any such record fails the test."""
    handler = _AsyncioErrors()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield
        gc.collect()
        # What survived lives on (fixtures, modules, caches): freeze it so the next
        # test's collection walks only what that test made. Without this, every
        # teardown walks the whole heap (openai, Qt, pytest): ~0.3 s a test, most
        # of the fast lane's time. Frozen objects are still freed by refcount, so a
        # task that dies later still reports its unretrieved exception.
        gc.freeze()
    finally:
        logger.removeHandler(handler)
    if handler.records:
        messages = "\n".join(r.getMessage() for r in handler.records)
        pytest.fail(f"asyncio reported errors:\n{messages}")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings, logs, history and keys of a test go to a folder of its own, never the
    user's; and no test reaches the machine's keyring (tests that want one set it)."""
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("DESKTOP_AGENT_NO_KEYRING", "1")


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as srv:
        yield srv


@pytest.fixture
async def client(server: ScriptedServer):  # type: ignore[no-untyped-def]
    from desktop_agent.providers.openai import OpenAIClient

    c = OpenAIClient(api_key="sk-test-key-123456", model="scripted-small", base_url=server.base_url)
    yield c
    await c.aclose()
