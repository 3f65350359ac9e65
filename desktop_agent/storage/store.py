"""The conversation store: SQLite (stdlib `sqlite3`, WAL) in the data folder.

Conversations hold a tree of messages: editing a message or regenerating an
answer adds a sibling (a new version) instead of overwriting, and the
conversation shows the path from the root to its current leaf. Reads of long
conversations are paged from the leaf upwards, so opening one costs the same
whatever its length.

One process writes a conversation at a time (the app); others (`desktop-agent
history`, `export`) may read concurrently: WAL lets them. (Opening, migrating and
the per-process session: database.py.)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from ..engine.model import Message, user_content
from . import attachments, search, tree
from .attachments import content_part
from .database import Database
from .records import (
    Conversation,
    SearchHit,
    StoredMessage,
    StoreError,
    conversation_from_row,
    fts_query,
    message_from_row,
    title_from,
)

__all__ = [
    "Conversation",
    "SearchHit",
    "Store",
    "StoreError",
    "StoredMessage",
]

_UNSET: Any = object()


class Store(Database):
    """The history database. Open with `Store(path)`; `close()` when done."""

    # -- conversations ------------------------------------------------------------

    def create_conversation(
        self,
        conversation_id: str | None = None,
        *,
        title: str = "",
        provider_id: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        created_at: float | None = None,
        project_id: str | None = None,
    ) -> str:
        conversation_id = conversation_id or f"c-{uuid.uuid4().hex}"
        now = created_at or time.time()
        self._db.execute(
            "INSERT INTO conversations (id, title, title_locked, created_at, updated_at, "
            "provider_id, model, system_prompt, project_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                conversation_id,
                title,
                int(bool(title)),
                now,
                now,
                provider_id,
                model,
                system_prompt,
                project_id,
            ),
        )
        return conversation_id

    def ensure_conversation(self, conversation_id: str, **settings: Any) -> None:
        if self.conversation(conversation_id, include_deleted=True) is None:
            self.create_conversation(conversation_id, **settings)

    def conversation(
        self, conversation_id: str, *, include_deleted: bool = False
    ) -> Conversation | None:
        row = self._db.execute(
            "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            return None
        return conversation_from_row(row)

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """Newest first (by last activity), deleted ones left out."""
        rows = self._db.execute(
            "SELECT * FROM conversations WHERE deleted_at IS NULL ORDER BY updated_at DESC LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        return [conversation_from_row(row) for row in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        self._db.execute(
            "UPDATE conversations SET title = ?, title_locked = 1 WHERE id = ?",
            (title_from(title) or "Untitled", conversation_id),
        )

    def set_settings(
        self,
        conversation_id: str,
        *,
        provider_id: str | None = _UNSET,
        model: str | None = _UNSET,
        system_prompt: str | None = _UNSET,
    ) -> None:
        changes = {
            key: value
            for key, value in (
                ("provider_id", provider_id),
                ("model", model),
                ("system_prompt", system_prompt),
            )
            if value is not _UNSET
        }
        if changes:
            assignments = ", ".join(f"{key} = ?" for key in changes)
            self._db.execute(
                f"UPDATE conversations SET {assignments} WHERE id = ?",
                (*changes.values(), conversation_id),
            )

    def delete(self, conversation_id: str) -> None:
        """Hide the conversation (`restore` undoes it; `purge_deleted` makes it final)."""
        self._db.execute(
            "UPDATE conversations SET deleted_at = ? WHERE id = ?", (time.time(), conversation_id)
        )

    def restore(self, conversation_id: str) -> None:
        self._db.execute(
            "UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,)
        )

    def purge_deleted(self, *, blob_grace: float = 600.0) -> int:
        """Delete the deleted conversations for good, and the attachments only they
        used (stored more than `blob_grace` seconds ago)."""
        with self._transaction() as db:
            count = db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL").rowcount
            attachments.purge_unused(db, blob_grace)
            return count

    # -- attachments ----------------------------------------------------------------

    def put_blob(self, data: bytes, mime: str) -> str:
        """Store an attachment's bytes once; their sha256."""
        with self._transaction() as db:
            return attachments.put(db, data, mime)

    def blob(self, sha256: str) -> tuple[bytes, str] | None:
        """An attachment's bytes and MIME type (None: not stored)."""
        return attachments.blob(self._db, sha256)

    def link_attachments(self, message_id: str, refs: Sequence[dict[str, Any]]) -> None:
        with self._transaction() as db:
            attachments.link(db, message_id, refs)

    def attachments_of(self, message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """message id -> its attachments (sha256, name, kind, mime, size), in order."""
        return attachments.attachments_of(self._db, message_ids)

    # -- messages -----------------------------------------------------------------

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str = "",
        *,
        message_id: str | None = None,
        parent_id: str | None = _UNSET,
        reasoning: str = "",
        tool_calls: Sequence[dict[str, Any]] | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        status: str = "complete",
        error: str | None = None,
        run_id: str | None = None,
        created_at: float | None = None,
    ) -> str:
        """Append a message under `parent_id` (default: the current leaf); it becomes
        the leaf. The first user message names an untitled conversation."""
        message_id = message_id or f"m-{uuid.uuid4().hex}"
        now = created_at or time.time()
        with self._transaction() as db:
            conv = db.execute(
                "SELECT leaf_id, title, title_locked FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if conv is None:
                raise StoreError(f"No conversation {conversation_id!r}.")
            parent = conv["leaf_id"] if parent_id is _UNSET else parent_id
            db.execute(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning, "
                "tool_calls, tool_call_id, tool_name, status, error, run_id, session_id, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    conversation_id,
                    parent,
                    role,
                    content,
                    reasoning,
                    json.dumps(list(tool_calls)) if tool_calls else None,
                    tool_call_id,
                    tool_name,
                    status,
                    error,
                    run_id,
                    self.session_id,
                    now,
                    now,
                ),
            )
            title = conv["title"]
            if role == "user" and not conv["title_locked"] and not title:
                title = title_from(content)
            db.execute(
                "UPDATE conversations SET leaf_id = ?, updated_at = ?, title = ? WHERE id = ?",
                (message_id, now, title, conversation_id),
            )
        return message_id

    def update_message(self, message_id: str, **fields: Any) -> None:
        """Change stored fields of a message (content, reasoning, tool_calls, status,
        error, prompt_tokens, completion_tokens)."""
        allowed = {
            "content",
            "reasoning",
            "tool_calls",
            "status",
            "error",
            "prompt_tokens",
            "completion_tokens",
        }
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        if "tool_calls" in fields:
            calls = fields["tool_calls"]
            fields["tool_calls"] = json.dumps(list(calls)) if calls else None
        if not fields:
            return
        now = time.time()
        assignments = ", ".join(f"{key} = ?" for key in fields)
        self._db.execute(
            f"UPDATE messages SET {assignments}, updated_at = ? WHERE id = ?",
            (*fields.values(), now, message_id),
        )

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        """Every message of the conversation, every version, in the order written."""
        rows = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY n", (conversation_id,)
        ).fetchall()
        return [message_from_row(row) for row in rows]

    def message(self, message_id: str) -> StoredMessage | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return message_from_row(row) if row else None

    def touch(self, conversation_id: str) -> None:
        self._db.execute(
            "UPDATE conversations SET updated_at = ? WHERE id = ?", (time.time(), conversation_id)
        )

    # -- the shown path -----------------------------------------------------------

    def page(
        self, conversation_id: str, *, before: str | None = None, limit: int = 50
    ) -> tuple[list[StoredMessage], bool]:
        """Up to `limit` messages of the shown path ending just above `before` (the
        latest ones when None), oldest first; and whether older ones exist."""
        if before is None:
            conv = self.conversation(conversation_id, include_deleted=True)
            start = conv.leaf_id if conv else None
        else:
            found = self.message(before)
            start = found.parent_id if found else None
        if start is None or limit <= 0:
            return [], False
        return tree.path_up(self._db, conversation_id, start, limit)

    def path(self, conversation_id: str) -> list[StoredMessage]:
        """The whole shown path, oldest first."""
        messages, _more = self.page(conversation_id, limit=self._count(conversation_id) + 1)
        return messages

    def _count(self, conversation_id: str) -> int:
        """How many messages the conversation has: no path in it is longer."""
        return tree.count(self._db, conversation_id)

    def model_messages(self, conversation_id: str) -> list[Message]:
        """The shown path as the messages a model is sent (a user message's
        attachments as its content parts)."""
        path = self.path(conversation_id)
        attached = self.attachments_of(m.id for m in path if m.role == "user")
        messages = []
        for m in path:
            if m.role not in ("user", "assistant", "tool", "system") or not (
                m.content or m.tool_calls or m.role != "assistant"
            ):
                continue
            message = m.to_message()
            if m.id in attached:
                parts = []
                for ref in attached[m.id]:
                    found = self.blob(ref["sha256"])
                    if found is not None:
                        parts.append(content_part(ref, found[0]))
                message["content"] = user_content(m.content, parts)
            messages.append(message)
        return messages

    def set_leaf(self, conversation_id: str, message_id: str | None) -> None:
        """Make `message_id` the end of the shown path (None: an empty path, so the
        next message starts a new root version)."""
        self._db.execute(
            "UPDATE conversations SET leaf_id = ? WHERE id = ?", (message_id, conversation_id)
        )

    def versions(self, messages: Iterable[StoredMessage]) -> dict[str, tuple[int, int]]:
        """For each message with siblings of its role: (1-based index, count)."""
        return tree.versions(self._db, messages)

    def switch_version(self, message_id: str, step: int) -> str | None:
        """Show the sibling `step` away from `message_id` (and its latest answers);
        returns the sibling's id, or None if there is none that way."""
        message = self.message(message_id)
        if message is None:
            return None
        siblings = tree.siblings(self._db, message)
        index = siblings.index(message_id) + step
        if not 0 <= index < len(siblings):
            return None
        target = siblings[index]
        self.set_leaf(
            message.conversation_id, tree.latest_below(self._db, message.conversation_id, target)
        )
        return target

    # -- search -------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 50) -> list[SearchHit]:
        """Conversations whose title or messages match every word of `text` (as
        prefixes), title matches first, then by recent activity."""
        query = fts_query(text)
        if not query:
            return [SearchHit(c.id, c.title, c.updated_at, "") for c in self.conversations(limit)]
        return search.search(self._db, query, limit)
