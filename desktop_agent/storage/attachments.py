"""Attachments in the history: blobs stored once by sha256, linked to messages.

Functions on a `Store` (it keeps one SQLite connection); the store's methods
`put_blob`, `link_attachments`, `attachments_of`, `blob` call these.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["attachments_of", "blob", "content_part", "link", "purge_unused", "put"]


def content_part(ref: dict[str, Any], data: bytes) -> dict[str, Any]:
    """A stored attachment as the content part a model is sent (OpenAI shape), with
    its reference under "attachment" (not sent)."""
    if ref.get("kind") == "image":
        encoded = base64.b64encode(data).decode("ascii")
        url = f"data:{ref.get('mime') or 'image/png'};base64,{encoded}"
        return {"type": "image_url", "image_url": {"url": url}, "attachment": dict(ref)}
    return {"type": "text", "text": data.decode("utf-8", "replace"), "attachment": dict(ref)}


def put(db: sqlite3.Connection, data: bytes, mime: str) -> str:
    """Store `data` (once: the same bytes are stored one time); its sha256."""
    digest = hashlib.sha256(data).hexdigest()
    db.execute(
        "INSERT OR IGNORE INTO blobs (sha256, mime, size, data, created_at) VALUES (?, ?, ?, ?, ?)",
        (digest, mime, len(data), sqlite3.Binary(data), time.time()),
    )
    return digest


def link(db: sqlite3.Connection, message_id: str, refs: Sequence[dict[str, Any]]) -> None:
    """Attach the stored blobs `refs` (sha256, name, kind) to a message, in order."""
    db.executemany(
        "INSERT OR REPLACE INTO message_attachments (message_id, position, sha256, name, kind) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (message_id, i, str(r["sha256"]), str(r.get("name") or "file"), str(r["kind"]))
            for i, r in enumerate(refs)
        ],
    )


def attachments_of(
    db: sqlite3.Connection, message_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """message id -> its attachments' references (sha256, name, kind, mime, size)."""
    ids = list(message_ids)
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            "SELECT a.message_id, a.sha256, a.name, a.kind, b.mime, b.size "
            "FROM message_attachments a JOIN blobs b ON b.sha256 = a.sha256 "
            f"WHERE a.message_id IN ({marks}) ORDER BY a.message_id, a.position",
            chunk,
        ).fetchall()
        for row in rows:
            found.setdefault(row[0], []).append(
                {"sha256": row[1], "name": row[2], "kind": row[3], "mime": row[4], "size": row[5]}
            )
    return found


def blob(db: sqlite3.Connection, sha256: str) -> tuple[bytes, str] | None:
    """The stored bytes and their MIME type (None: no such blob)."""
    row = db.execute("SELECT data, mime FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    return (bytes(row[0]), str(row[1])) if row else None


def purge_unused(db: sqlite3.Connection, grace: float = 600.0) -> int:
    """Delete blobs no message uses any more (after deleted conversations are purged);
    a blob stored in the last `grace` seconds is kept (its message may be on its way,
    from another process)."""
    return db.execute(
        "DELETE FROM blobs WHERE created_at < ? AND sha256 NOT IN "
        "(SELECT sha256 FROM message_attachments)",
        (time.time() - grace,),
    ).rowcount
