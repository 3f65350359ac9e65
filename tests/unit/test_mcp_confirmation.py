"""Imported MCP servers start only when the entry the user confirmed is the entry
that runs: confirmation is tied to a fingerprint of the whole entry, not to its name.

The command does not exist, so a server that is started ends `failed` ("the command
was not found") and one that is held back stays `unconfirmed`: nothing runs either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.app.mcp_setup import McpSetup
from desktop_agent.app.settings import load_settings, save_settings

ENTRY: dict[str, Any] = {
    "command": "no-such-mcp-command-xyz",
    "args": ["--serve"],
    "env": {"MODE": "safe"},
    "cwd": "/srv/tools",
}


def config_text(**servers: dict[str, Any]) -> str:
    return json.dumps({"mcpServers": servers})


def status(host: McpSetup, name: str) -> str:
    return host.manager.servers[name].status


async def imported_and_confirmed(tmp_path: Path) -> McpSetup:
    host = McpSetup(tmp_path)
    assert await host.save(config_text(tool=ENTRY), imported={"tool"}) == []
    assert status(host, "tool") == "unconfirmed"  # imported: held back
    await host.confirm("tool")
    assert status(host, "tool") == "failed"  # confirmed: it was started
    return host


@pytest.mark.parametrize(
    "change",
    [
        {"cwd": "/tmp/elsewhere"},
        {"args": ["--serve", "--and-something-else"]},
        {"env": {"MODE": "safe", "NODE_OPTIONS": "--require /tmp/x.js"}},
        {"command": "no-such-mcp-command-abc"},
    ],
    ids=["cwd", "args", "env", "command"],
)
async def test_a_changed_entry_under_a_confirmed_name_is_not_started(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    host = await imported_and_confirmed(tmp_path)
    try:
        await host.save(config_text(tool={**ENTRY, **change}))  # same name, other entry
        assert status(host, "tool") == "unconfirmed"
        assert host.tools() == []
        await host.save(config_text(tool=ENTRY))  # back to what was confirmed: it runs again
        assert status(host, "tool") == "failed"
    finally:
        await host.aclose()


async def test_confirming_what_was_shown_does_not_confirm_a_newer_entry(tmp_path: Path) -> None:
    host = McpSetup(tmp_path)
    try:
        await host.save(config_text(tool=ENTRY), imported={"tool"})
        shown = host.manager.servers["tool"].config.fingerprint
        await host.save(config_text(tool={**ENTRY, "cwd": "/tmp/other"}), imported={"tool"})
        assert await host.confirm("tool", shown) is False  # the page showed the old entry
        assert status(host, "tool") == "unconfirmed"
    finally:
        await host.aclose()


async def test_the_users_own_entries_start_as_before(tmp_path: Path) -> None:
    host = McpSetup(tmp_path)
    try:
        await host.save(config_text(mine=ENTRY))
        assert status(host, "mine") == "failed"  # started: typed by the user
        await host.save(config_text(mine={**ENTRY, "cwd": "/tmp/elsewhere"}))
        assert status(host, "mine") == "failed"
    finally:
        await host.aclose()


async def test_old_settings_migrate(tmp_path: Path) -> None:
    """Settings of the name-based design: names in "mcp_unconfirmed" were imported and
    wait; every other name was the user's own or already confirmed, and still starts."""
    (tmp_path / "mcp.json").write_text(config_text(waiting=ENTRY, mine=ENTRY))
    save_settings({**load_settings(), "mcp_unconfirmed": ["waiting"]})
    host = McpSetup(tmp_path)
    try:
        await host.start()
        assert status(host, "waiting") == "unconfirmed"
        assert status(host, "mine") == "failed"
        assert "mcp_unconfirmed" not in load_settings()
        await host.confirm("waiting")
        assert status(host, "waiting") == "failed"
    finally:
        await host.aclose()


async def test_a_server_name_with_key_in_it_stays_imported(tmp_path: Path) -> None:
    """The settings file drops keys that contain "key": a server name must not be one."""
    host = McpSetup(tmp_path)
    try:
        await host.save(config_text(apikey_tool=ENTRY), imported={"apikey_tool"})
        await host.start()  # from the saved settings
        assert status(host, "apikey_tool") == "unconfirmed"
    finally:
        await host.aclose()
