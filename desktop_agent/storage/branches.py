"""Delete from here: cut a message and everything below it out of a conversation,
softly, the way a deleted conversation is hidden.

The cut messages move into a *holder*: a conversation of their own that is marked
deleted at once, so no list, search or path shows them, `restore_cut` moves them back
(undo), and `Store.purge_deleted` (at the next start) deletes them for good with the
other deleted conversations. No column is added: the schema stays as it is. The
message's other versions (its siblings) and everything above it stay untouched; the
conversation's shown path ends at the message's parent.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Cut", "cut_from", "restore_cut"]


@dataclass(frozen=True)
class Cut:
    """What `cut_from` took away (what `restore_cut` needs)."""

    conversation_id: str
    holder_id: str  # the deleted conversation holding the cut messages
    message_id: str  # the first message cut
    leaf_before: str | None  # the shown leaf before the cut
    count: int  # how many messages were cut (every version below the message too)


def cut_from(store: Store, message_id: str) -> Cut | None:
    """Cut `message_id` and every message below it (on the shown path and in other
    versions under it) out of its conversation; the shown path then ends at its
    parent. None when there is no such message."""
    message = store.message(message_id)
    if message is None:
        return None
    conversation = store.conversation(message.conversation_id, include_deleted=True)
    if conversation is None:
        return None
    holder = f"{message.conversation_id}~cut-{uuid.uuid4().hex[:12]}"
    with store._transaction() as db:
        # Down the tree, within the conversation, at most as deep as it has messages
        # (a damaged tree with a cycle cannot make the walk endless).
        rows = db.execute(
            "WITH RECURSIVE below(id, depth) AS ("
            "  SELECT :start, 0"
            "  UNION"
            "  SELECT m.id, b.depth + 1 FROM below b JOIN messages m"
            "  ON m.parent_id = b.id AND m.conversation_id = :conv"
            "  WHERE b.depth < (SELECT COUNT(*) FROM messages WHERE conversation_id = :conv)"
            ") SELECT DISTINCT id FROM below",
            {"start": message_id, "conv": message.conversation_id},
        ).fetchall()
        ids = [row[0] for row in rows]
        now = time.time()
        db.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at, deleted_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (holder, f"cut from {message.conversation_id}", now, now, now),
        )
        db.executemany(
            "UPDATE messages SET conversation_id = ? WHERE id = ? AND conversation_id = ?",
            [(holder, id_, message.conversation_id) for id_ in ids],
        )
        db.execute(
            "UPDATE conversations SET leaf_id = ?, updated_at = ? WHERE id = ?",
            (message.parent_id, now, message.conversation_id),
        )
    return Cut(message.conversation_id, holder, message_id, conversation.leaf_id, len(ids))


def restore_cut(store: Store, cut: Cut) -> bool:
    """Put the messages of `cut` back and show the path as it was. False when they are
    gone (purged, or their conversation was deleted for good)."""
    if store.conversation(cut.conversation_id, include_deleted=True) is None:
        return False
    with store._transaction() as db:
        moved = db.execute(
            "UPDATE messages SET conversation_id = ? WHERE conversation_id = ?",
            (cut.conversation_id, cut.holder_id),
        ).rowcount
        db.execute("DELETE FROM conversations WHERE id = ?", (cut.holder_id,))
        if moved:
            db.execute(
                "UPDATE conversations SET leaf_id = ? WHERE id = ?",
                (cut.leaf_before, cut.conversation_id),
            )
    return bool(moved)
