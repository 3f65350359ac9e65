"""The chat history as AG-UI sees it: messages in AG-UI's camelCase shape, and a
stable thread id for a conversation (plain functions, no HTTP)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from ..engine.model import Message

__all__ = ["agui_messages", "thread_id_of"]


def thread_id_of(messages: Sequence[Message]) -> str:
    """A stable id for the conversation: the digest of its start (up to and with its
    first user message), which later turns do not change."""
    first = next((i for i, m in enumerate(messages) if m.get("role") == "user"), 0)
    start = list(messages[: first + 1])
    digest = hashlib.sha256(json.dumps(start, sort_keys=True, default=str).encode())
    return f"da-{digest.hexdigest()[:20]}"


def agui_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The chat history as AG-UI messages (camelCase)."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role = m.get("role")
        mid = f"m{i}"
        content = m.get("content")
        text = content if isinstance(content, str) else ""
        if role in ("system", "developer", "user"):
            out.append({"id": mid, "role": role, "content": text})
        elif role == "assistant":
            entry: dict[str, Any] = {"id": mid, "role": "assistant"}
            if text:
                entry["content"] = text
            calls = m.get("tool_calls") or ()
            if calls:
                entry["toolCalls"] = [
                    {
                        "id": str(c.get("provider_id") or c.get("id")),
                        "type": "function",
                        "function": {
                            "name": str((c.get("function") or {}).get("name", "")),
                            "arguments": str((c.get("function") or {}).get("arguments") or ""),
                        },
                    }
                    for c in calls
                ]
            out.append(entry)
        elif role == "tool":
            out.append(
                {
                    "id": mid,
                    "role": "tool",
                    "content": text,
                    "toolCallId": _wire_call_id(messages, str(m.get("tool_call_id", ""))),
                }
            )
    return out


def _wire_call_id(messages: Sequence[Message], app_id: str) -> str:
    for m in messages:
        for c in m.get("tool_calls") or ():
            if c.get("id") == app_id and c.get("provider_id"):
                return str(c["provider_id"])
    return app_id
