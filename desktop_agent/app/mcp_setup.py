"""The app's MCP servers: `mcp.json` in the data folder, the imported servers and
the entry the user confirmed for each (settings "mcp_imported"), and the running
`McpConnections`.

Servers the user writes (in the settings' editor, or in mcp.json) are theirs and
start. Servers brought in by Import (another host's config file) start only while
their entry is the one the user confirmed: "mcp_imported" holds `[name, sha256 of
the confirmed entry]` pairs ("" before any confirmation), so a changed `cwd`,
argument or environment value under a confirmed name waits for confirmation again.
(Pairs, not an object keyed by name: the settings file drops keys containing "key".)

Settings of the name-based design ("mcp_unconfirmed": names) migrate: those names
are imported and unconfirmed; every other server started before and still does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine import Tool
from ..private_files import private_dir, write_private
from ..tools.mcp import McpConnections, McpServer, load_mcp_config, parse_mcp_config
from .settings import load_settings, update_settings

__all__ = ["McpSetup"]

EMPTY = '{\n  "mcpServers": {}\n}\n'


class McpSetup:
    def __init__(
        self, folder: Path, *, on_change: Callable[[McpServer], None] | None = None
    ) -> None:
        self.file = folder / "mcp.json"
        self.log_folder = folder / "logs"
        self.on_change = on_change
        self.manager = McpConnections([])
        self.problems: list[str] = []

    # -- the config ----------------------------------------------------------------

    def text(self) -> str:
        try:
            return self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return EMPTY

    @staticmethod
    def imported() -> dict[str, str]:
        """Imported servers: name → the fingerprint the user confirmed ("" for none)."""
        saved = load_settings()
        found: dict[str, str] = {}
        raw = saved.get("mcp_imported")
        for pair in raw if isinstance(raw, list) else []:
            if isinstance(pair, list) and len(pair) == 2:
                found[str(pair[0])] = str(pair[1] or "")
        old = saved.get("mcp_unconfirmed")  # the name-based settings
        for name in old if isinstance(old, list) else []:
            found.setdefault(str(name), "")
        return found

    @staticmethod
    def _save_imported(imported: dict[str, str]) -> None:
        pairs = [[name, imported[name]] for name in sorted(imported)]

        def change(saved: dict[str, Any]) -> None:
            saved.pop("mcp_unconfirmed", None)
            saved["mcp_imported"] = pairs

        update_settings(change)

    @staticmethod
    def merge_import(current_text: str, imported: Any) -> tuple[str, list[str]]:
        """Another host's config merged into `current_text`: (new text, the names
        it added or changed, which wait for confirmation)."""
        try:
            current = json.loads(current_text) if current_text.strip() else {}
        except ValueError:
            current = {}
        servers = dict(current.get("mcpServers") or {}) if isinstance(current, dict) else {}
        incoming = imported.get("mcpServers") if isinstance(imported, dict) else None
        if not isinstance(incoming, dict):
            raise ValueError('the file has no "mcpServers" object')
        added = [name for name, cfg in incoming.items() if servers.get(name) != cfg]
        servers.update(incoming)
        return json.dumps({"mcpServers": servers}, indent=2) + "\n", added

    # -- running ---------------------------------------------------------------------

    async def start(self) -> None:
        data, problems = load_mcp_config(self.file)
        configs, more = parse_mcp_config(data)
        self.problems = problems + more
        await self.manager.stop_all()
        imported = self.imported()
        if "mcp_unconfirmed" in load_settings():
            self._save_imported(imported)  # migrate the name-based settings
        self.manager = McpConnections(
            configs,
            imported=imported,
            log_folder=self.log_folder,
            on_change=self.on_change,
        )
        await self.manager.start_all()

    async def save(self, text: str, *, imported: set[str] | None = None) -> list[str]:
        """Write the config (if it parses) and restart the servers; `imported` names
        servers that came by Import and wait for confirmation (again, if one was
        confirmed before). Returns the problems."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            return [f"not valid JSON: {exc}"]
        configs, problems = parse_mcp_config(data)
        if problems:
            return problems
        # (it can hold header tokens and env keys: 0600, written atomically)
        write_private(
            private_dir(self.file.parent) / self.file.name, json.dumps(data, indent=2) + "\n"
        )
        names = {c.name for c in configs}
        known = self.imported()
        known.update(dict.fromkeys(imported or (), ""))
        self._save_imported({n: f for n, f in known.items() if n in names})
        await self.start()
        return self.problems

    async def confirm(self, name: str, fingerprint: str | None = None) -> bool:
        """The user read what this server runs and allows it: the entry with
        `fingerprint` (the one shown to them; None: the current one). False, and
        nothing starts, when the server's entry is no longer that one."""
        server = self.manager.servers.get(name)
        if server is None:
            return False
        if not server.confirm(server.config.fingerprint if fingerprint is None else fingerprint):
            return False
        imported = self.imported()
        if name in imported:
            imported[name] = server.config.fingerprint
            self._save_imported(imported)
        await server.start()
        return True

    async def reconnect(self, name: str) -> None:
        server = self.manager.servers.get(name)
        if server is not None:
            await server.restart()

    def servers(self) -> list[McpServer]:
        return list(self.manager.servers.values())

    def tools(self) -> list[Tool]:
        return self.manager.tools()

    async def aclose(self) -> None:
        await self.manager.stop_all()
