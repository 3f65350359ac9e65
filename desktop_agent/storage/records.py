"""What the store hands out: conversations, messages (with the engine's form of a
message), search hits; and how rows become them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..engine.model import Message
from ..engine.state import history_tool_call

__all__ = [
    "Conversation",
    "SearchHit",
    "StoreError",
    "StoredMessage",
    "conversation_from_row",
    "fts_query",
    "message_from_row",
    "title_from",
]

TITLE_CHARS = 80
_FINISH_REASONS = {"cancelled": "cancelled", "failed": "error", "interrupted": "error"}


class StoreError(Exception):
    """The history database cannot be opened or used (the message says why)."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    title: str
    created_at: float
    updated_at: float
    leaf_id: str | None = None
    provider_id: str | None = None
    model: str | None = None
    system_prompt: str | None = None
    deleted: bool = False
    #: The project it belongs to (None: none).
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    conversation_id: str
    parent_id: str | None
    role: str
    content: str
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    #: complete | partial (still streaming, checkpointed) | cancelled | failed |
    #: interrupted (was partial when its process died)
    status: str = "complete"
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created_at: float = 0.0

    def to_message(self) -> Message:
        """The engine's form, as sent to a model."""
        message: Message = {"role": self.role, "content": self.content}
        if self.role == "assistant" and self.tool_calls:
            message["content"] = self.content or None
            message["tool_calls"] = [history_tool_call(call) for call in self.tool_calls]
        if self.role == "assistant":  # as the engine's own history has them
            if self.reasoning:
                message["reasoning"] = self.reasoning
            finish = _FINISH_REASONS.get(self.status)
            if finish:
                message["finish_reason"] = finish
        if self.role == "tool":
            message["tool_call_id"] = self.tool_call_id or ""
        return message


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    title: str
    updated_at: float
    snippet: str  # "" for a title match
    message_id: str | None = None


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def fts_query(text: str) -> str:
    """User text → an FTS5 query: every word must match, as a prefix."""
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"*' for w in words if w)


def conversation_from_row(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        title=row["title"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        leaf_id=row["leaf_id"],
        provider_id=row["provider_id"],
        model=row["model"],
        system_prompt=row["system_prompt"],
        deleted=row["deleted_at"] is not None,
        project_id=row["project_id"] if "project_id" in row.keys() else None,  # noqa: SIM118
    )


def message_from_row(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        parent_id=row["parent_id"],
        role=row["role"],
        content=row["content"],
        reasoning=row["reasoning"],
        tool_calls=json.loads(row["tool_calls"]) if row["tool_calls"] else None,
        tool_call_id=row["tool_call_id"],
        tool_name=row["tool_name"],
        status=row["status"],
        error=row["error"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        created_at=row["created_at"],
    )
