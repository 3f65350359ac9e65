"""Projects and their knowledge in the history database (schema 6).

A project: a unique name (case-insensitive), instructions, a default provider and
model, a tool set (None: the session's). Its knowledge: the files and folders added
(`sources`), every file found under them (`files`: mtime, size, sha256, and whether
it was indexed or skipped with the reason) and the passages of the indexed files,
searched with FTS5's BM25 (no model needed, works offline).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .knowledge_records import KnowledgeFile, Passage, PassageHit, Project, knowledge_query
from .records import StoreError

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "KnowledgeFile",
    "Passage",
    "PassageHit",
    "Project",
    "ProjectStore",
    "knowledge_query",
]


def _project(row: sqlite3.Row) -> Project:
    tools = json.loads(row["tools"]) if row["tools"] else None
    return Project(
        id=row["id"],
        name=row["name"],
        instructions=row["instructions"] or "",
        provider_id=row["provider_id"],
        model=row["model"],
        tools=tuple(tools) if tools is not None else None,
    )


def _file(row: sqlite3.Row) -> KnowledgeFile:
    return KnowledgeFile(
        id=row["id"],
        source_id=row["source_id"],
        path=row["path"],
        mtime=row["mtime"],
        size=row["size"],
        sha256=row["sha256"],
        status=row["status"],
        reason=row["reason"],
        passages=row["passages"],
    )


class ProjectStore:
    """Projects in a `Store` (its connection and transactions)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._db = store._db

    # -- projects -----------------------------------------------------------------

    def create(self, name: str, *, instructions: str = "") -> Project:
        name = name.strip()
        if not name:
            raise StoreError("A project needs a name.")
        if self.find(name) is not None:
            raise StoreError(f"There is already a project named {name!r}.")
        now = time.time()
        project_id = uuid.uuid4().hex
        self._db.execute(
            "INSERT INTO projects (id, name, instructions, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (project_id, name, instructions, now, now),
        )
        return Project(project_id, name, instructions)

    def get(self, project_id: str) -> Project | None:
        row = self._db.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
        return _project(row) if row else None

    def find(self, name: str) -> Project | None:
        """The project named `name` (case-insensitive)."""
        row = self._db.execute(
            "SELECT * FROM projects WHERE name = ? COLLATE NOCASE", (name.strip(),)
        ).fetchone()
        return _project(row) if row else None

    def all(self) -> list[Project]:
        rows = self._db.execute("SELECT * FROM projects ORDER BY name COLLATE NOCASE").fetchall()
        return [_project(row) for row in rows]

    def update(
        self,
        project_id: str,
        *,
        name: str | None = None,
        instructions: str | None = None,
        provider_id: str | None = None,
        model: str | None = None,
        tools: Sequence[str] | None = None,
    ) -> None:
        """Change what is given (None keeps it)."""
        fields: dict[str, object] = {}
        if name is not None:
            name = name.strip()
            other = self.find(name)
            if not name or (other is not None and other.id != project_id):
                raise StoreError(f"There is already a project named {name!r}.")
            fields["name"] = name
        if instructions is not None:
            fields["instructions"] = instructions
        if provider_id is not None:
            fields["provider_id"] = provider_id or None
        if model is not None:
            fields["model"] = model or None
        if tools is not None:
            fields["tools"] = json.dumps(list(tools))
        if not fields:
            return
        fields["updated_at"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(
            f"UPDATE projects SET {columns} WHERE id = ?", (*fields.values(), project_id)
        )

    def clear_tools(self, project_id: str) -> None:
        """Its conversations have the session's tools again."""
        self._db.execute("UPDATE projects SET tools = NULL WHERE id = ?", (project_id,))

    def remove(self, project_id: str, *, delete_conversations: bool = False) -> list[str]:
        """Remove a project with its knowledge; its conversations are kept (out of any
        project) or, `delete_conversations`, deleted (undoable until the next start).
        Returns the conversations that were in it."""
        with self.store.batch() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM conversations WHERE project_id = ?", (project_id,)
                )
            ]
            if delete_conversations:
                db.execute(
                    "UPDATE conversations SET deleted_at = ? WHERE project_id = ?",
                    (time.time(), project_id),
                )
            db.execute(
                "UPDATE conversations SET project_id = NULL WHERE project_id = ?", (project_id,)
            )
            db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
        return ids

    # -- conversations ------------------------------------------------------------

    def move(self, conversation_id: str, project_id: str | None) -> None:
        """Put a conversation into a project (None: out of any)."""
        if project_id is not None and self.get(project_id) is None:
            raise StoreError(f"No project {project_id!r}.")
        self._db.execute(
            "UPDATE conversations SET project_id = ? WHERE id = ?", (project_id, conversation_id)
        )

    def project_of(self, conversation_id: str) -> Project | None:
        row = self._db.execute(
            "SELECT p.* FROM projects p JOIN conversations c ON c.project_id = p.id WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        return _project(row) if row else None

    def conversations(self, project_id: str) -> list[str]:
        """Its conversations (not deleted), newest first."""
        rows = self._db.execute(
            "SELECT id FROM conversations WHERE project_id = ? AND deleted_at IS NULL "
            "ORDER BY updated_at DESC",
            (project_id,),
        ).fetchall()
        return [r[0] for r in rows]

    # -- knowledge ----------------------------------------------------------------

    def add_source(self, project_id: str, path: str) -> int:
        """A file or folder added to the project (again: the same id)."""
        self._db.execute(
            "INSERT OR IGNORE INTO knowledge_sources (project_id, path, added_at) VALUES (?, ?, ?)",
            (project_id, path, time.time()),
        )
        row = self._db.execute(
            "SELECT id FROM knowledge_sources WHERE project_id = ? AND path = ?",
            (project_id, path),
        ).fetchone()
        return int(row[0])

    def sources(self, project_id: str) -> list[tuple[int, str]]:
        rows = self._db.execute(
            "SELECT id, path FROM knowledge_sources WHERE project_id = ? ORDER BY path",
            (project_id,),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def files(
        self, project_id: str, source_id: int | None = None, *, limit: int | None = None
    ) -> list[KnowledgeFile]:
        """Its files by path (`limit`: the skipped ones first, then up to `limit`)."""
        if limit is not None:
            rows = self._db.execute(
                "SELECT * FROM knowledge_files WHERE project_id = ? "
                "ORDER BY status = 'indexed', path LIMIT ?",
                (project_id, limit),
            )
        elif source_id is None:
            rows = self._db.execute(
                "SELECT * FROM knowledge_files WHERE project_id = ? ORDER BY path", (project_id,)
            )
        else:
            rows = self._db.execute(
                "SELECT * FROM knowledge_files WHERE project_id = ? AND source_id = ? "
                "ORDER BY path",
                (project_id, source_id),
            )
        return [_file(row) for row in rows.fetchall()]

    def put_file(
        self,
        project_id: str,
        source_id: int,
        path: str,
        *,
        mtime: float,
        size: int,
        sha256: str | None,
        passages: Sequence[Passage] = (),
        reason: str | None = None,
    ) -> None:
        """Record one file as it is now: its passages replace the old ones (one
        transaction); with `reason` it is skipped (no passages)."""
        status = "skipped" if reason else "indexed"
        with self.store.batch() as db:
            db.execute(
                "DELETE FROM knowledge_files WHERE project_id = ? AND path = ?", (project_id, path)
            )
            cursor = db.execute(
                "INSERT INTO knowledge_files (project_id, source_id, path, mtime, size, sha256, "
                "status, reason, passages, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    project_id,
                    source_id,
                    path,
                    mtime,
                    size,
                    sha256,
                    status,
                    reason,
                    0 if reason else len(passages),
                    time.time(),
                ),
            )
            file_id = cursor.lastrowid
            if not reason:
                db.executemany(
                    "INSERT INTO passages (file_id, position, line_start, line_end, page, "
                    "heading, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (file_id, i, p.line_start, p.line_end, p.page, p.heading, p.text)
                        for i, p in enumerate(passages)
                    ],
                )

    def count_files(self, project_id: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM knowledge_files WHERE project_id = ?", (project_id,)
        ).fetchone()
        return int(row[0])

    def touch_file(self, file_id: int, mtime: float) -> None:
        """The file's content did not change (same sha256); only its mtime did."""
        self._db.execute("UPDATE knowledge_files SET mtime = ? WHERE id = ?", (mtime, file_id))

    def remove_files(self, file_ids: Iterable[int]) -> int:
        """Forget files (gone from disk) with their passages."""
        ids = list(file_ids)
        with self.store.batch() as db:
            db.executemany("DELETE FROM knowledge_files WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    def remove_source(self, project_id: str, path: str) -> None:
        self._db.execute(
            "DELETE FROM knowledge_sources WHERE project_id = ? AND path = ?", (project_id, path)
        )

    def search(self, project_id: str, question: str, *, limit: int = 5) -> list[PassageHit]:
        """The project's passages that best answer `question`, best first (BM25)."""
        query = knowledge_query(question)
        if not query:
            return []
        rows = self._db.execute(
            "SELECT p.n, f.id AS file_id, f.path, p.text, p.line_start, p.line_end, p.page, "
            "p.heading, bm25(passages_fts) AS score FROM passages_fts "
            "JOIN passages p ON p.n = passages_fts.rowid "
            "JOIN knowledge_files f ON f.id = p.file_id "
            "WHERE passages_fts MATCH ? AND f.project_id = ? ORDER BY score LIMIT ?",
            (query, project_id, limit),
        ).fetchall()
        return [
            PassageHit(
                file_id=r["file_id"],
                path=r["path"],
                text=r["text"],
                line_start=r["line_start"],
                line_end=r["line_end"],
                page=r["page"],
                heading=r["heading"],
                score=float(r["score"]),
                n=int(r["n"]),
            )
            for r in rows
        ]
