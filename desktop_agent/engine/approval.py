"""Who decides whether a tool call may run: `Approvals`.

A tool with side effects (`Tool.side_effects`) runs only after the user says so.
The run publishes `TOOL_APPROVAL_REQUEST` (call_id, tool_name, arguments) and
waits, with its status "awaiting_approval" and its total timeout paused; any
surface answers through `Orchestrator.approve(...)` (or `Agent.approve`) with one
of `DECISIONS`. "always" allows this call and every later call of that tool (the
choice is kept by whoever passed `on_change`, and can be revoked). A denial goes
back to the model as the tool's result (an error), so it can carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .tools import Tool

__all__ = ["ALLOW", "ALWAYS", "DECISIONS", "DENIED_MESSAGE", "DENY", "Approvals"]

ALLOW = "allow"  # this call only
ALWAYS = "always"  # this call and every later call of this tool
DENY = "deny"
DECISIONS = (ALLOW, ALWAYS, DENY)
DENIED_MESSAGE = "the user denied this tool call"


class Approvals:
    """Which tool calls need the user's approval, and the tools always allowed.

    Args:
        always: tool names the user allowed for good.
        on_change: called with the new set when it changes (to persist it).
        required: overrides which tools need approval (default: those with side
            effects). `lambda tool: False` turns approval off (tests, trusted setups).
    """

    def __init__(
        self,
        always: Iterable[str] = (),
        *,
        on_change: Callable[[frozenset[str]], None] | None = None,
        required: Callable[[Tool], bool] | None = None,
    ) -> None:
        self._always = set(always)
        self.on_change = on_change
        self._required = required or (lambda tool: tool.side_effects)

    @property
    def always(self) -> frozenset[str]:
        return frozenset(self._always)

    def needed(self, tool: Tool) -> bool:
        return bool(self._required(tool)) and tool.name not in self._always

    def allow_always(self, name: str) -> None:
        if name not in self._always:
            self._always.add(name)
            self._changed()

    def revoke(self, name: str) -> None:
        if name in self._always:
            self._always.discard(name)
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.always)
