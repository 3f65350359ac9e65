"""Where a run stands (`AgentStatus`) and how it ended (`RunOutcome`).

`RunOutcome` is what `DONE` says (`completed`, `cancelled`, `failed`);
`RunOutcome.final_status` is the one mapping from it to the agent's final status.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AgentStatus", "RunOutcome"]


class AgentStatus(StrEnum):
    IDLE = "idle"
    THINKING = "thinking"
    STREAMING = "streaming"
    CALLING_TOOL = "calling_tool"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def busy(self) -> bool:
        """True while a run is under way (the spinner's condition)."""
        return self in _BUSY

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_BUSY = frozenset(
    {
        AgentStatus.THINKING,
        AgentStatus.STREAMING,
        AgentStatus.CALLING_TOOL,
        AgentStatus.AWAITING_APPROVAL,
    }
)
_FINISHED = frozenset({AgentStatus.DONE, AgentStatus.CANCELLED, AgentStatus.FAILED})


class RunOutcome(StrEnum):
    """How a run ended: `DONE`'s `status`."""

    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def final_status(self) -> AgentStatus:
        """The agent's status after a run that ended so."""
        return _FINAL_STATUS[self]


_FINAL_STATUS = {
    RunOutcome.COMPLETED: AgentStatus.DONE,
    RunOutcome.CANCELLED: AgentStatus.CANCELLED,
    RunOutcome.FAILED: AgentStatus.FAILED,
}
