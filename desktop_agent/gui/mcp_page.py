"""Settings → MCP servers: the `mcpServers` JSON (the shape other desktop hosts
use), each server's status with Reconnect, and Import of another host's config,
whose servers wait until the user confirmed everything they run (command line,
folder, environment; URL and header names). Confirm applies to the entry shown:
if it changed since, nothing starts and the page shows the new one."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from ..app.mcp_setup import McpSetup

__all__ = ["McpPage"]

Spawn = Callable[[Coroutine[Any, Any, Any]], None]


class McpPage(QWidget):
    def __init__(self, host: McpSetup, spawn: Spawn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("MCP servers")
        self.host = host
        self.spawn = spawn
        self.pending_import: set[str] = set()
        self.shown: list[tuple[str, str]] = []  # per row: (name, fingerprint shown)
        self.editor = QPlainTextEdit(host.text(), self)
        self.editor.setAccessibleName("MCP servers configuration (JSON)")
        self.editor.setTabChangesFocus(True)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setAccessibleName("Save the configuration and restart the servers")
        self.apply_button.clicked.connect(self.apply)
        self.import_button = QPushButton("Import…", self)
        self.import_button.setAccessibleName("Import another app's MCP configuration")
        self.import_button.clicked.connect(self._choose_import)
        self.servers = QListWidget(self)
        self.servers.setAccessibleName("MCP servers and their status")
        self.reconnect_button = QPushButton("Reconnect", self)
        self.reconnect_button.setAccessibleName("Reconnect the selected server")
        self.reconnect_button.clicked.connect(self.reconnect_selected)
        self.confirm_button = QPushButton("Confirm and start", self)
        self.confirm_button.setAccessibleName("Confirm what the selected server runs")
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("MCP messages")
        top = QHBoxLayout()
        top.addWidget(
            QLabel(
                '{"mcpServers": {"name": {"command", "args", "env", "cwd"} or {"url", "headers"}}}',
                self,
            ),
            1,
        )
        top.addWidget(self.import_button)
        top.addWidget(self.apply_button)
        row = QHBoxLayout()
        row.addWidget(self.reconnect_button)
        row.addWidget(self.confirm_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.editor, 2)
        layout.addWidget(self.servers, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.refresh()

    def refresh(self, *_args: object) -> None:
        """Show each server's status (called when one changes)."""
        selected = self.servers.currentRow()
        self.servers.clear()
        self.shown = []
        for server in self.host.servers():
            line = f"{server.name} — {server.describe()}"
            if server.status == "unconfirmed":
                line += "".join(f"\n    {part}" for part in server.config.confirmation_lines())
            self.servers.addItem(line)
            self.shown.append((server.name, server.config.fingerprint))
        if 0 <= selected < self.servers.count():
            self.servers.setCurrentRow(selected)
        if self.host.problems:
            self.message.setText("; ".join(self.host.problems))

    def _selected(self) -> str | None:
        row = self.servers.currentRow()
        return self.shown[row][0] if 0 <= row < len(self.shown) else None

    def changed(self) -> bool:
        return self.editor.toPlainText() != self.host.text() or bool(self.pending_import)

    def apply(self) -> None:
        """Save the configuration and restart the servers (imported ones wait)."""
        imported, self.pending_import = self.pending_import, set()
        text = self.editor.toPlainText()

        async def run() -> None:
            problems = await self.host.save(text, imported=imported)
            if problems:
                self.message.setText("; ".join(problems))
            elif imported:
                self.message.setText(
                    "Saved. Imported servers start once you confirm what they run."
                )
            else:
                self.message.setText("Saved; servers restarted.")
            self.refresh()

        self.spawn(run())

    def _choose_import(self) -> None:
        dialog = QFileDialog(self, "Import an MCP configuration", "", "JSON (*.json)")
        dialog.fileSelected.connect(self.import_file)
        dialog.open()  # not exec(): the asyncio loop runs on Qt's

    def import_file(self, path: str) -> None:
        """Merge another host's `mcpServers` into the editor; they stay unconfirmed."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            text, added = self.host.merge_import(self.editor.toPlainText(), data)
        except (OSError, ValueError) as exc:
            self.message.setText(f"Could not import {path}: {exc}")
            return
        self.editor.setPlainText(text)
        self.pending_import |= set(added)
        self.message.setText(
            f"Imported {', '.join(added) or 'nothing new'}: press Apply; each imported server "
            "starts only after you confirm what it runs."
        )

    def confirm_selected(self) -> None:
        """Confirm the selected server's entry as shown (not whatever it is by now)."""
        row = self.servers.currentRow()
        if not 0 <= row < len(self.shown):
            return
        name, fingerprint = self.shown[row]
        self.pending_import.discard(name)

        async def run() -> None:
            if not await self.host.confirm(name, fingerprint):
                self.message.setText(
                    f"{name} changed since it was shown and was not started: "
                    "read what it runs now, then confirm again."
                )
            self.refresh()

        self.spawn(run())

    def reconnect_selected(self) -> None:
        name = self._selected()
        if name is not None:
            self.spawn(self.host.reconnect(name))
