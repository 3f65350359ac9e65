"""Answering a tool's request to run: the card's buttons, Enter (allow) and Esc
(deny) answer the oldest request on screen; a conversation in the background that
waits for an answer is marked in the list and named in the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .composer import Composer
from .conversation_views import ConversationViews
from .sidebar import Sidebar
from .status import ToolStatusBar

if TYPE_CHECKING:
    from ..engine.orchestrator import Orchestrator
    from .conversation import ConversationView

__all__ = ["ApprovalController"]


class ApprovalController(QObject):
    def __init__(
        self,
        views: ConversationViews,
        composer: Composer,
        sidebar: Sidebar,
        status: ToolStatusBar,
        orchestrator: Callable[[], Orchestrator | None],
    ) -> None:
        super().__init__(views)
        self._views = views
        self._sidebar = sidebar
        self._status = status
        self._orchestrator = orchestrator
        views.approval_waiting.connect(self.waiting)
        views.made.connect(lambda view: view.transcript.approval_answered.connect(self.answer))
        composer.confirm_requested.connect(lambda: self.answer(None, "allow"))

    def pending(self) -> list[str]:
        """The call ids waiting for an answer on screen, oldest first."""
        return self._views.current.transcript.pending_approvals()

    def answer(self, call_id: str | None, decision: str) -> None:
        """Answer a request on screen (None: the oldest one waiting)."""
        view = self._views.current
        pending = view.transcript.pending_approvals()
        if call_id is None:
            if not pending:
                return
            call_id = pending[0]
        orchestrator = self._orchestrator()
        if call_id not in pending or orchestrator is None:
            return
        orchestrator.approve(call_id, decision, tenant_id=view.conversation_id)
        view.transcript.resolve_approval(call_id, decision)
        if not view.transcript.pending_approvals():
            self._sidebar.model.set_live(view.conversation_id, view.busy)

    def waiting(self, view: ConversationView) -> None:
        """A conversation waits for an approval: say so (when it is not on screen)."""
        model = self._sidebar.model
        model.set_live(view.conversation_id, True, waiting=True)
        if view is not self._views.current:
            row = model.row_of(view.conversation_id)
            title = model.rows[row].title if row >= 0 else "Another conversation"
            self._status.showMessage(
                f"“{title}” waits for your approval of a tool (⚠ in the list)", 15000
            )
