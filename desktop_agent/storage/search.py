"""Full-text search over conversation titles and messages (SQLite FTS5): a
connection-level function the `Store` delegates to."""

from __future__ import annotations

import sqlite3

from .records import SearchHit

__all__ = ["search"]


def search(db: sqlite3.Connection, query: str, limit: int) -> list[SearchHit]:
    """Conversations whose title or messages match the FTS `query`, title matches
    first, then by recent activity."""
    hits: dict[str, SearchHit] = {}
    for row in db.execute(
        "SELECT c.id, c.title, c.updated_at FROM titles_fts f "
        "JOIN conversations c ON c.rowid = f.rowid "
        "WHERE titles_fts MATCH ? AND c.deleted_at IS NULL "
        "ORDER BY c.updated_at DESC LIMIT ?",
        (query, limit),
    ):
        hits[row["id"]] = SearchHit(row["id"], row["title"], row["updated_at"], "")
    if len(hits) < limit:
        # One row per conversation (its latest matching message), newest first...
        found = db.execute(
            "SELECT m.conversation_id AS cid, MAX(m.n) AS n, c.title, c.updated_at "
            "FROM messages_fts f JOIN messages m ON m.n = f.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL "
            "GROUP BY m.conversation_id ORDER BY c.updated_at DESC LIMIT ?",
            (query, limit),
        ).fetchall()
        found = [row for row in found if row["cid"] not in hits][: limit - len(hits)]
        # ...then what that message said around the match.
        snippets: dict[int, tuple[str, str]] = {}
        if found:
            marks = ",".join("?" * len(found))
            for row in db.execute(
                "SELECT f.rowid AS n, m.id AS message_id, "
                "snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet "
                "FROM messages_fts f JOIN messages m ON m.n = f.rowid "
                f"WHERE messages_fts MATCH ? AND f.rowid IN ({marks})",
                (query, *(row["n"] for row in found)),
            ):
                snippets[row["n"]] = (row["message_id"], row["snippet"])
        for row in found:
            message_id, snippet = snippets.get(row["n"], (None, ""))
            hits[row["cid"]] = SearchHit(
                row["cid"], row["title"], row["updated_at"], snippet, message_id
            )
    return list(hits.values())
