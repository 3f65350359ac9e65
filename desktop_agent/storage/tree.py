"""The message tree of a conversation: the shown path (paged from a message
upwards), a message's versions (its siblings of the same role), and the latest
answers below a version. Connection-level functions the `Store` delegates to.

Every walk stays in its conversation and is bounded by its message count, so a
damaged tree (a parent cycle written by something else) cannot make it run
forever; a message met twice ends the walk.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from .records import StoredMessage, message_from_row

__all__ = ["count", "cut_at_repeat", "latest_below", "path_up", "siblings", "versions"]

_log = logging.getLogger(__name__)


def count(db: sqlite3.Connection, conversation_id: str) -> int:
    """How many messages the conversation has: no path in it is longer."""
    row = db.execute(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
    ).fetchone()
    return int(row[0])


def path_up(
    db: sqlite3.Connection, conversation_id: str, start: str, limit: int
) -> tuple[list[StoredMessage], bool]:
    """Up to `limit` messages of the path ending at `start`, oldest first; and
    whether older ones exist."""
    rows = db.execute(
        "WITH RECURSIVE path(id, depth) AS ("
        "  SELECT :start, 0"
        "  UNION ALL"
        "  SELECT m.parent_id, p.depth + 1 FROM path p JOIN messages m ON m.id = p.id"
        "  WHERE m.conversation_id = :conv AND m.parent_id IS NOT NULL AND p.depth < :max"
        ") SELECT m.* FROM path p JOIN messages m ON m.id = p.id"
        " WHERE m.conversation_id = :conv ORDER BY p.depth",
        {"start": start, "conv": conversation_id, "max": limit - 1},
    ).fetchall()
    messages, cut = cut_at_repeat([message_from_row(row) for row in rows])
    if cut:
        _log.warning(
            "history: conversation %s is damaged (its messages form a cycle); "
            "showing the path up to the first repeat",
            conversation_id,
        )
    messages.reverse()
    more = bool(messages) and messages[0].parent_id is not None and not cut
    return messages, more


def siblings(db: sqlite3.Connection, message: StoredMessage) -> list[str]:
    """The versions of `message`: the ids under its parent with its role, in order."""
    if message.parent_id is None:
        rows = db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS NULL "
            "AND role = ? ORDER BY n",
            (message.conversation_id, message.role),
        )
    else:
        rows = db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id = ? "
            "AND role = ? ORDER BY n",
            (message.conversation_id, message.parent_id, message.role),
        )
    return [row[0] for row in rows]


def versions(
    db: sqlite3.Connection, messages: Iterable[StoredMessage]
) -> dict[str, tuple[int, int]]:
    """For each message with siblings of its role: (1-based index, count)."""
    out: dict[str, tuple[int, int]] = {}
    for message in messages:
        if message.role not in ("user", "assistant"):
            continue
        found = siblings(db, message)
        if len(found) > 1:
            out[message.id] = (found.index(message.id) + 1, len(found))
    return out


def latest_below(db: sqlite3.Connection, conversation_id: str, target: str) -> str:
    """The end of the latest answers below `target` (`target` itself if none)."""
    # At most as many steps as the conversation has messages (a damaged tree with
    # a cycle ends there, cut at the first repeat).
    rows = db.execute(
        "WITH RECURSIVE down(id, depth) AS ("
        "  SELECT :target, 0"
        "  UNION ALL"
        "  SELECT (SELECT c.id FROM messages c"
        "          WHERE c.conversation_id = :conv AND c.parent_id = down.id"
        "          ORDER BY c.n DESC LIMIT 1), depth + 1"
        "  FROM down WHERE down.id IS NOT NULL AND depth < :max"
        ") SELECT id FROM down WHERE id IS NOT NULL ORDER BY depth",
        {"target": target, "conv": conversation_id, "max": count(db, conversation_id)},
    ).fetchall()
    seen: set[str] = set()
    leaf = target
    for (id_,) in rows:
        if id_ in seen:
            _log.warning(
                "history: conversation %s is damaged (its messages form a cycle)",
                conversation_id,
            )
            break
        seen.add(id_)
        leaf = id_
    return leaf


def cut_at_repeat(messages: list[StoredMessage]) -> tuple[list[StoredMessage], bool]:
    """The messages up to (not including) the first one met a second time; and
    whether there was one."""
    seen: set[str] = set()
    for i, message in enumerate(messages):
        if message.id in seen:
            return messages[:i], True
        seen.add(message.id)
    return messages, False
