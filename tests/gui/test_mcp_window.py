"""MCP in the window: servers from mcp.json start after the window, their tools
ask for approval, Settings → MCP servers shows status, reconnects, and imports
another host's config without starting it until confirmed."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.app.mcp_setup import McpSetup
from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.mcp_page import McpPage
from desktop_agent.gui.window import MainWindow
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from tests.gui.conftest import Gui

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def server_entry() -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": ["-m", "tests.support.mcp_server"],
        "env": {"PYTHONPATH": str(ROOT)},
        "cwd": str(ROOT),
    }


def test_mcp_servers_in_the_window(gui: Gui, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "mcp.json").write_text(json.dumps({"mcpServers": {"test": server_entry()}}))
    model = ScriptedModel(
        [Turn(tool_calls=[ScriptedToolCall("test__add", {"a": 40, "b": 2}, id="c1")]), "It is 42."]
    )
    window = MainWindow(
        ConnectionConfig(kind="openai", model="m"),
        model_factory=lambda _c: model,
        frame_ms=16,
        mcp=lambda: McpSetup(folder),
    )
    window.show()
    gui.run(window.start())
    try:
        gui.until(
            lambda: (
                window.session is not None
                and window.session.mcp is not None
                and [s.status for s in window.session.mcp.servers()] == ["connected"]
            ),
            "the MCP server to connect",
            30,
        )
        assert "test__add" in window.orchestrator.config.tools.names  # type: ignore[union-attr]

        gui.call(window.send, "add 40 and 2")
        gui.until(lambda: bool(window.transcript.pending_approvals()), "the approval card")
        assert "⚠ Allow test__add to run?" in window.transcript.toPlainText()
        gui.call(window.approvals.answer, None, "allow")
        gui.until(lambda: not window.busy, "the run")
        assert "It is 42." in window.transcript.toPlainText()
        history = window.orchestrator.messages(window.tenant_id)  # type: ignore[union-attr]
        assert [m["content"] for m in history if m["role"] == "tool"] == ["42"]

        page = gui.call(window.open_settings).mcp_page  # type: ignore[attr-defined]
        assert page.servers.item(0).text() == "test — connected, 5 tools"

        # A crash is reported; Reconnect brings it back.
        crash = next(t for t in window.session.mcp.tools() if t.name == "test__crash")  # type: ignore[union-attr]

        async def call_crash() -> None:
            try:
                await crash.invoke({})
            except Exception:
                pass

        gui.run(call_crash())
        gui.until(
            lambda: page.servers.item(0).text().startswith("test — failed:"), "the failure shown"
        )
        assert "test__add" not in window.orchestrator.config.tools.names  # type: ignore[union-attr]
        page.servers.setCurrentRow(0)
        gui.call(page.reconnect_selected)
        gui.until(
            lambda: page.servers.item(0).text() == "test — connected, 5 tools", "reconnected", 30
        )
        assert "test__add" in window.orchestrator.config.tools.names  # type: ignore[union-attr]

        # Import another host's config: listed, not started until confirmed.
        other = tmp_path / "claude_desktop_config.json"
        marker = tmp_path / "started"
        entry = server_entry()
        entry["env"] = {**entry["env"], "MARKER": str(marker)}
        other.write_text(json.dumps({"mcpServers": {"imported": entry}}))
        gui.call(page.import_file, str(other))
        assert "imported" in json.loads(page.editor.toPlainText())["mcpServers"]
        gui.call(page.apply)
        gui.until(lambda: page.servers.count() == 2, "both servers listed", 30)
        gui.until(
            lambda: (
                "connected" in page.servers.item(1).text()
                or "not started" in page.servers.item(1).text()
            ),
            "statuses",
            30,
        )
        imported_row = next(
            i for i in range(2) if page.servers.item(i).text().startswith("imported")
        )
        text = page.servers.item(imported_row).text()
        assert "not started: confirm what it runs first" in text
        assert "tests.support.mcp_server" in text and f"MARKER={marker}" in text
        assert f"in folder: {ROOT}" in text  # the full command line, where and with what
        assert window.session.mcp.manager.servers["imported"].status == "unconfirmed"  # type: ignore[union-attr]
        page.servers.setCurrentRow(imported_row)
        gui.call(page.confirm_selected)
        gui.until(
            lambda: window.session.mcp.manager.servers["imported"].status == "connected",
            "confirmed and started",
            30,
        )  # type: ignore[union-attr]
        assert "imported__add" in window.orchestrator.config.tools.names  # type: ignore[union-attr]
        fingerprint = window.session.mcp.manager.servers["imported"].config.fingerprint  # type: ignore[union-attr]
        assert McpSetup.imported() == {"imported": fingerprint}  # remembered in the settings
    finally:
        gui.run(window.shutdown(), 60)


def test_the_confirmation_shows_everything_an_import_runs(gui: Gui, tmp_path: Path) -> None:
    """Import a server: its row shows the command line, the folder it runs in (`cwd`)
    and its environment. Changing the folder under the same name while the old entry
    is on screen: Confirm does not start the new one, the row shows the new folder."""
    host = McpSetup(tmp_path / "data")
    tasks: list[asyncio.Task[Any]] = []

    def spawn(coro: Coroutine[Any, Any, Any]) -> None:
        tasks.append(asyncio.ensure_future(coro))

    def settle() -> None:
        gui.run(asyncio.gather(*tasks))

    page = McpPage(host, spawn)
    entry = {
        "command": "no-such-mcp-command-xyz",
        "args": ["--serve", "two words"],
        "env": {"MODE": "safe"},
        "cwd": str(tmp_path / "the-folder"),
    }
    other = tmp_path / "other_host.json"
    other.write_text(json.dumps({"mcpServers": {"imported": entry}}))
    try:
        page.import_file(str(other))
        page.apply()
        settle()
        text = page.servers.item(0).text()
        assert text.startswith("imported — not started: confirm what it runs first")
        assert "runs: no-such-mcp-command-xyz --serve 'two words'" in text
        assert f"in folder: {tmp_path / 'the-folder'}" in text
        assert "environment: MODE=safe" in text

        page.servers.setCurrentRow(0)  # the user reads this entry ...
        changed = {**entry, "cwd": str(tmp_path / "elsewhere")}
        gui.run(host.save(json.dumps({"mcpServers": {"imported": changed}})))
        page.confirm_selected()  # ... and confirms it, but the entry is another by now
        settle()
        assert host.manager.servers["imported"].status == "unconfirmed"
        assert "changed since it was shown" in page.message.text()
        assert f"in folder: {tmp_path / 'elsewhere'}" in page.servers.item(0).text()

        page.servers.setCurrentRow(0)
        page.confirm_selected()  # the entry on screen now
        settle()
        assert host.manager.servers["imported"].status == "failed"  # it was started
    finally:
        gui.run(host.aclose())
