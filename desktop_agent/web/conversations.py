"""The conversations `serve` keeps: checked ids, a cap, the idle ones dropped first."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import TypeGuard

from ..engine import Orchestrator

__all__ = ["CONVERSATION_ID", "Conversations", "valid_conversation_id"]

#: What a client may name a conversation: it goes into headers, logs and events.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def valid_conversation_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and CONVERSATION_ID.fullmatch(value) is not None


class Conversations:
    """At most `limit` conversations in the orchestrator; when a new one comes, the
    least recently used idle ones are forgotten (`Orchestrator.forget`). A conversation
    with a run going (or waiting for approval) is never dropped: when all are busy,
    `admit` says no."""

    def __init__(self, orchestrator: Orchestrator, limit: int) -> None:
        if limit < 1:
            raise ValueError("keep at least one conversation")
        self.orchestrator = orchestrator
        self.limit = limit
        self._used: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._used)

    def touch(self, conversation_id: str) -> None:
        """Mark a kept conversation as just used."""
        if conversation_id in self._used:
            self._used.move_to_end(conversation_id)

    def admit(self, conversation_id: str) -> bool:
        """Make room for `conversation_id` and mark it used; False if there is none."""
        if conversation_id in self._used:
            self._used.move_to_end(conversation_id)
            return True
        known = set(self.orchestrator.tenants())
        for old in list(self._used):
            if len(self._used) < self.limit:
                break
            if old not in known or self.orchestrator.forget(old):
                del self._used[old]
        if len(self._used) >= self.limit:
            return False
        self._used[conversation_id] = None
        return True
