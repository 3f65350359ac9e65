"""The window's tool actions: answering approval requests, tool settings (built-ins,
always-allowed), and the MCP servers' tools. (A mixin of `MainWindow`;
`WindowParts` is what it uses of the window.)"""

from __future__ import annotations

from typing import Any

from ..app.settings import ToolSettings
from .window_parts import WindowParts

__all__ = ["ToolActions"]


class ToolActions:
    def answer_approval(self: WindowParts, call_id: str | None, decision: str) -> None:
        """Answer a tool's request to run (None: the oldest one waiting on screen)."""
        pending = self.transcript.pending_approvals()
        if call_id is None:
            if not pending:
                return
            call_id = pending[0]
        if call_id not in pending or self.orchestrator is None:
            return
        self.orchestrator.approve(call_id, decision, tenant_id=self.tenant_id)
        self.transcript.resolve_approval(call_id, decision)
        if not self.transcript.pending_approvals():
            self.sidebar.model.set_live(self.tenant_id, self.busy)

    def _always_allowed_changed(self: WindowParts, names: frozenset[str]) -> None:
        from dataclasses import replace

        self.set_tool_settings(replace(self.tool_settings, always_allowed=names), rebuild=False)

    def set_tool_settings(
        self: WindowParts, settings: ToolSettings, *, rebuild: bool = True
    ) -> None:
        """New tool settings (Settings → Tools): the tools of the next runs, and the
        tools that run without asking."""
        self.tool_settings = settings
        if self.orchestrator is not None:
            approvals = self.orchestrator.approvals
            for name in approvals.always - settings.always_allowed:
                approvals.revoke(name)
            for name in settings.always_allowed - approvals.always:
                approvals.allow_always(name)
        if rebuild:
            self._rebuild_tools()
        if self._on_tool_settings_saved is not None:
            self._on_tool_settings_saved(settings)

    def load_tools(self: WindowParts) -> None:
        """Use the built-in tools the tool settings turn on (before `start()`); from
        then on, changed tool settings rebuild them."""
        self._builtins_from_settings = True
        self._rebuild_tools()

    def _rebuild_tools(self: WindowParts) -> None:
        if not self._builtins_from_settings:  # tools given by the caller: kept as they are
            return
        from ..tools.catalog import build_tools

        tools, problems = build_tools(self.tool_settings)
        self.tools = tools
        self._apply_tools()
        for problem in problems:
            self.status.showMessage(problem, 8000)

    def _apply_tools(self: WindowParts) -> None:
        """The built-ins plus the connected MCP servers' tools, for the next runs."""
        if self.orchestrator is not None:
            extra = self.mcp.tools() if self.mcp is not None else []
            self.orchestrator.set_tools([*self.tools, *extra])

    def _mcp_changed(self: WindowParts, server: Any) -> None:
        if self._closing:
            return
        self._apply_tools()
        if server.status == "failed":
            self.status.showMessage(f"MCP server {server.name} {server.describe()}", 10000)
        self.mcp_changed.emit()

    async def _start_mcp(self: WindowParts) -> None:
        assert self.mcp is not None
        await self.mcp.start()
        self._apply_tools()
        for problem in self.mcp.problems:
            self.status.showMessage(f"MCP: {problem}", 10000)
