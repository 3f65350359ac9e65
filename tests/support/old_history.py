"""A history database as an older schema version made it, with one conversation
("hello" from the user), for migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_agent.storage import schema

#: The script each version added, from version 2 on.
_ADDED = {
    2: schema._V2_TABLES + schema._V2_SEARCH,
    3: schema._V3_SOURCES,
    4: schema._V4_ATTACHMENTS,
    5: schema._V5_REQUESTS,
}


def old_history(path: Path, version: int, *, conversation: str = "c-old") -> str:
    """Write `path` at schema `version` (2..5) holding one conversation; its id."""
    db = sqlite3.connect(path)
    for step in range(2, version + 1):
        db.executescript(_ADDED[step])
    db.executescript(
        f"""
INSERT INTO conversations (id, title, created_at, updated_at, leaf_id)
    VALUES ('{conversation}', 'Before', 1.0, 1.0, 'm-1');
INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at, updated_at)
    VALUES ('m-1', '{conversation}', NULL, 'user', 'hello', 1.0, 1.0);
PRAGMA user_version = {version};
"""
    )
    db.close()
    return conversation
