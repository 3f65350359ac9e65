"""The app's MCP servers: `mcp.json` in the data folder, the imported servers still
waiting for the user's confirmation (settings "mcp_unconfirmed"), and the running
`McpManager`.

Servers the user writes (in the settings' editor, or in mcp.json) are theirs and
start. Servers brought in by Import (another host's config file) are not started
until the user confirmed each one's full command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import load_settings, update_settings
from ..engine import Tool
from ..private_files import private_dir, write_private
from .mcp import McpManager, McpServer, load_mcp_config, parse_mcp_config

__all__ = ["McpHost"]

EMPTY = '{\n  "mcpServers": {}\n}\n'


class McpHost:
    def __init__(
        self, folder: Path, *, on_change: Callable[[McpServer], None] | None = None
    ) -> None:
        self.file = folder / "mcp.json"
        self.log_folder = folder / "logs"
        self.on_change = on_change
        self.manager = McpManager([])
        self.problems: list[str] = []

    # -- the config ----------------------------------------------------------------

    def text(self) -> str:
        try:
            return self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return EMPTY

    @staticmethod
    def unconfirmed() -> set[str]:
        """Imported servers not confirmed yet (by name)."""
        raw = load_settings().get("mcp_unconfirmed")
        return {str(x) for x in raw} if isinstance(raw, list) else set()

    @staticmethod
    def _save_unconfirmed(names: set[str]) -> None:
        update_settings(lambda saved: saved.update(mcp_unconfirmed=sorted(names)))

    @staticmethod
    def merge_import(current_text: str, imported: Any) -> tuple[str, list[str]]:
        """Another host's config merged into `current_text`: (new text, the names
        it added or changed, which stay unconfirmed)."""
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
        self.manager = McpManager(
            configs,
            unconfirmed=self.unconfirmed(),
            log_folder=self.log_folder,
            on_change=self.on_change,
        )
        await self.manager.start_all()

    async def save(self, text: str, *, imported: set[str] | None = None) -> list[str]:
        """Write the config (if it parses) and restart the servers; `imported` names
        servers that wait for confirmation. Returns the problems."""
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
        self._save_unconfirmed((self.unconfirmed() | set(imported or ())) & names)
        await self.start()
        return self.problems

    async def confirm(self, name: str) -> None:
        """The user read this server's command line and allows it to run."""
        server = self.manager.servers.get(name)
        if server is None:
            return
        self._save_unconfirmed(self.unconfirmed() - {name})
        server.confirmed = True
        await server.start()

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
