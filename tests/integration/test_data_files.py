"""The data folder under a loose umask (022): the folder is 0700 and every file the
app writes in it 0600 (settings, mcp.json, the history with its -wal/-shm, keys,
logs); files left loose by an older version are tightened at start; logs are
capped in size. Real files, a real SQLite store, the real MCP host."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"  # not there yet: the app creates it
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(folder))
    return folder


@pytest.fixture
def root_logging() -> Iterator[None]:
    """`_setup_logging` replaces the root logger's handlers: put them back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_data_folder_and_files_are_private(
    home: Path, loose_umask: None, root_logging: None
) -> None:
    from desktop_agent.app.credentials import Credentials
    from desktop_agent.app.mcp_setup import McpSetup
    from desktop_agent.app.paths import data_dir, history_path
    from desktop_agent.app.settings import save_settings
    from desktop_agent.gui.app import _setup_logging
    from desktop_agent.storage import Store

    folder = data_dir()
    save_settings({"tools": {"workspace": "/tmp/x"}})
    host = McpSetup(folder)
    problems = await host.save(
        json.dumps({"mcpServers": {"gone": {"command": "no-such-command-xyz"}}})
    )
    assert problems == []
    await host.aclose()
    store = Store(history_path())
    store.create_conversation("c1", title="hello")
    Credentials(folder).set("p-1", "sk-1")
    log = _setup_logging()
    logging.getLogger("desktop_agent.test").warning("a line")

    assert mode(folder) == 0o700
    assert mode(folder / "logs") == 0o700
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    for name in ("settings.json", "mcp.json", "history.db", "history.db-wal", "history.db-shm"):
        assert name in files
    loose = {
        str(p.relative_to(folder)): oct(mode(p))
        for p in [*folder.iterdir(), *(folder / "logs").iterdir()]
        if p.is_file() and mode(p) != 0o600
    }
    store.close()
    assert loose == {}
    assert log.parent == folder / "logs" and (folder / "logs" / "mcp-gone.log").exists()


def test_loose_files_from_before_are_tightened(home: Path, loose_umask: None) -> None:
    from desktop_agent.app.paths import data_dir

    (home / "logs").mkdir(parents=True)
    home.chmod(0o755)
    for name in ("settings.json", "mcp.json", "history.db", "logs/desktop-agent.log"):
        (home / name).write_text("{}")
        (home / name).chmod(0o644)
    assert data_dir() == home
    assert mode(home) == 0o700 and mode(home / "logs") == 0o700
    for name in ("settings.json", "mcp.json", "history.db", "logs/desktop-agent.log"):
        assert mode(home / name) == 0o600, name


def test_the_app_log_is_capped(home: Path, root_logging: None) -> None:
    from desktop_agent.gui.app import _setup_logging

    path = _setup_logging()
    line = "x" * 1000
    logger = logging.getLogger("desktop_agent.test")
    for _ in range(6000):  # ~6 MB
        logger.info(line)
    logs = sorted(p.name for p in path.parent.iterdir())
    assert logs == [
        "desktop-agent.log",
        "desktop-agent.log.1",
        "desktop-agent.log.2",
        "desktop-agent.log.3",
    ]
    assert all(p.stat().st_size <= 1024 * 1024 + 2000 for p in path.parent.iterdir())


@pytest.mark.slow  # starts an MCP stdio server (one that exits at once)
async def test_an_mcp_servers_log_is_capped_at_start(home: Path) -> None:
    from desktop_agent.app.mcp_setup import McpSetup
    from desktop_agent.app.paths import data_dir

    folder = data_dir()
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    big = logs / "mcp-gone.log"
    big.write_text("y" * (3 * 1024 * 1024))
    host = McpSetup(folder)
    config = {"mcpServers": {"gone": {"command": sys.executable, "args": ["-c", "pass"]}}}
    await host.save(json.dumps(config))
    await host.aclose()
    assert (logs / "mcp-gone.log.1").stat().st_size == 3 * 1024 * 1024
    assert big.stat().st_size < 1024 * 1024
