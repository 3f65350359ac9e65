"""The history's SQLite file: opened private (0600) in WAL mode, backed up and
migrated to the current schema, with a session per process so that answers left
half-written by a process that died are marked interrupted. `Store` builds on it."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from .records import StoreError
from .schema import CREATE, MIGRATIONS, SCHEMA_VERSION

__all__ = ["Database"]

_log = logging.getLogger(__name__)


def _make_private(db: Path) -> None:
    """A database only the user can read: created 0600 before SQLite opens it (SQLite
    gives its -wal, -shm and -journal files the database's mode), and one left
    looser by an older version tightened, with those files. (POSIX only.)"""
    if os.name != "posix":
        return
    with suppress(FileExistsError):
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = db.with_name(db.name + suffix)
        with suppress(OSError):
            if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)


class Database:
    """An open history database: `close()` when done."""

    def __init__(self, path: Path | str, *, session: bool = True) -> None:
        self.file = Path(path)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        _make_private(self.file)
        try:
            self._db = sqlite3.connect(self.file, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._backup_before_migrating()
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"The history database {self.file} cannot be opened: {exc}") from exc
        self.session_id = uuid.uuid4().hex
        if session:
            self._start_session()

    # -- opening ------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._db.in_transaction:  # inside `batch()`: that one commits
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """Many writes as one transaction: all or nothing, and fast (import)."""
        return self._transaction()

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _backup_before_migrating(self) -> None:
        """A copy of an older database, made (with SQLite's backup API, so it is
        consistent) before anything is changed: history.db.vN.bak."""
        version = self.version
        if 0 < version < SCHEMA_VERSION:
            backup = self.file.with_name(f"{self.file.name}.v{version}.bak")
            _make_private(backup)
            target = sqlite3.connect(backup)
            try:
                self._db.backup(target)
            finally:
                target.close()
            _log.info("history: backed up schema %d to %s before migrating", version, backup)

    def _migrate(self) -> None:
        version = self.version
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The history database {self.file} is from a newer desktop-agent "
                f"(schema {version}, this version knows {SCHEMA_VERSION}); not touching it."
            )
        if version == 0 and not self._db.execute("SELECT 1 FROM sqlite_master").fetchone():
            with self._transaction() as db:
                for statement in _statements(CREATE):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"No migration from history schema {version}.")
            with self._transaction() as db:
                for statement in _statements(step):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")
            version += 1

    def _start_session(self) -> None:
        """Register this process; answers left "partial" by dead ones are interrupted."""
        with self._transaction() as db:
            for row in db.execute("SELECT id, pid FROM sessions").fetchall():
                if row["pid"] == os.getpid() or _alive(row["pid"]):
                    continue
                db.execute(
                    "UPDATE messages SET status = 'interrupted' "
                    "WHERE status = 'partial' AND session_id = ?",
                    (row["id"],),
                )
                db.execute("DELETE FROM sessions WHERE id = ?", (row["id"],))
            db.execute(
                "INSERT INTO sessions (id, pid, started_at) VALUES (?, ?, ?)",
                (self.session_id, os.getpid(), time.time()),
            )

    def close(self) -> None:
        try:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (self.session_id,))
            self._db.execute(
                "UPDATE messages SET status = 'interrupted' "
                "WHERE status = 'partial' AND session_id = ?",
                (self.session_id,),
            )
        except sqlite3.Error:
            pass
        self._db.close()


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers keep their inner `;`)."""
    out: list[str] = []
    current: list[str] = []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            out.append(text)
            current = []
    if "\n".join(current).strip():
        out.append("\n".join(current))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
