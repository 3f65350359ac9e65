"""A backup of the data folder to move machines: `desktop-agent backup FILE` and
`desktop-agent restore FILE`.

The backup is a zip with
* `history.db`: every conversation, every version (a consistent copy made with
  SQLite's online backup API, so the app may be running meanwhile);
* `settings.json`: providers, models, tool settings — never keys (the settings
  writer drops anything that looks like one, and so does the backup, again);
* `manifest.json`: what it is, when, which history schema.

Not in it: API keys (in the OS keyring, or `credentials.json`), `mcp.json` (MCP
servers' environment and headers often carry tokens), logs.

Restore refuses a data folder that already has conversations or settings unless
forced; forced, it moves the old files aside (`history.db.before-restore-<time>`)
before putting the backup's in place, and refuses while the app is running.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
import zipfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from ..private_files import FILE_MODE, private_dir, write_private
from ..storage.schema import SCHEMA_VERSION
from .settings import _without_keys

__all__ = ["BackupError", "BackupInfo", "backup", "restore"]

FORMAT = "desktop-agent.backup"
_HISTORY, _SETTINGS, _MANIFEST = "history.db", "settings.json", "manifest.json"
#: a backup's history may unpack to this much at most (refused beyond)
MAX_HISTORY_BYTES = 64 * 1024**3


class BackupError(Exception):
    """A backup cannot be made or restored (the message says why)."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    conversations: int
    messages: int
    files: list[str]


def _counts(db: sqlite3.Connection) -> tuple[int, int]:
    conversations = db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0]
    messages = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    return int(conversations), int(messages)


def backup(folder: Path, target: Path) -> BackupInfo:
    """Write the backup of data folder `folder` to `target` (a zip, 0600)."""
    history = folder / _HISTORY
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as tmp:
        copy = Path(tmp) / _HISTORY
        conversations = messages = 0
        if history.exists():
            try:
                source = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
                try:
                    out = sqlite3.connect(copy)
                    with out:
                        source.backup(out)  # the online backup API: a consistent copy
                    conversations, messages = _counts(out)
                    out.close()
                finally:
                    source.close()
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"cannot read the history {history}: {exc}") from exc
        files = [_HISTORY] if copy.exists() else []
        settings = _settings(folder)
        manifest = {
            "format": FORMAT,
            "version": 1,
            "created_at": time.time(),
            "schema": SCHEMA_VERSION,
            "conversations": conversations,
            "messages": messages,
        }
        partial = Path(tmp) / "backup.zip"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(_MANIFEST, json.dumps(manifest, indent=2))
            if files:
                z.write(copy, _HISTORY)
            if settings is not None:
                z.writestr(_SETTINGS, json.dumps(settings, indent=2))
                files.append(_SETTINGS)
        os.replace(partial, target)
    return BackupInfo(conversations, messages, files)


def _settings(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / _SETTINGS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _without_keys(data) if isinstance(data, dict) else None


def _in_use(folder: Path) -> bool:
    """True when the data folder has conversations or settings already."""
    history = folder / _HISTORY
    if history.exists():
        try:
            db = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
            try:
                if _counts(db)[0]:
                    return True
            finally:
                db.close()
        except sqlite3.DatabaseError:
            return True  # something is there: not ours to overwrite silently
    return (folder / _SETTINGS).exists()


def _running(folder: Path) -> list[int]:
    """Processes (other than this one) that have the history open now."""
    history = folder / _HISTORY
    if not history.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{history}?mode=ro", uri=True)
        try:
            pids = [int(r[0]) for r in db.execute("SELECT pid FROM sessions")]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return []
    from ..storage.database import _alive

    return [pid for pid in pids if pid != os.getpid() and _alive(pid)]


def restore(folder: Path, source: Path, *, force: bool = False) -> BackupInfo:
    """Put backup `source` into data folder `folder`."""
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{source} is not a desktop-agent backup: {exc}") from exc
    with archive:
        try:
            manifest = json.loads(archive.read(_MANIFEST))
        except (KeyError, ValueError) as exc:
            raise BackupError(f"{source} is not a desktop-agent backup (no manifest)") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{source} is not a desktop-agent backup")
        if int(manifest.get("schema") or 0) > SCHEMA_VERSION:
            raise BackupError(
                f"the backup is from a newer desktop-agent (history schema "
                f"{manifest.get('schema')}, this version knows {SCHEMA_VERSION})"
            )
        names = set(archive.namelist())
        if _in_use(folder) and not force:
            raise BackupError(
                f"the data folder {folder} already has conversations or settings; "
                "restore with --force to replace them (the old files are kept aside)"
            )
        running = _running(folder)
        if running:
            raise BackupError(
                f"desktop-agent is running (process {running[0]}); close it before restoring"
            )
        private_dir(folder)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".restore-") as tmp:
            history = Path(tmp) / _HISTORY
            info = BackupInfo(0, 0, [])
            if _HISTORY in names:
                member = archive.getinfo(_HISTORY)
                if member.file_size > MAX_HISTORY_BYTES or (
                    member.file_size > 100 * 1024 * 1024
                    and member.file_size > 1000 * max(member.compress_size, 1)
                ):
                    raise BackupError("the backup's history would unpack to more than any real one")
                fd = os.open(history, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
                with os.fdopen(fd, "wb") as out, archive.open(member) as data:
                    while chunk := data.read(1024 * 1024):
                        out.write(chunk)
                info = _check(history)
            settings = _settings_from(archive) if _SETTINGS in names else None
            stamp = time.strftime("%Y%m%d-%H%M%S")
            if history.exists():
                _set_aside_db(folder / _HISTORY, stamp)
                os.replace(history, folder / _HISTORY)
                info.files.append(_HISTORY)
            if settings is not None:
                _set_aside(folder / _SETTINGS, stamp)
                write_private(folder / _SETTINGS, json.dumps(settings, indent=2))
                info.files.append(_SETTINGS)
    return info


def _check(history: Path) -> BackupInfo:
    try:
        db = sqlite3.connect(history)
        try:
            status = db.execute("PRAGMA integrity_check").fetchone()[0]
            if status != "ok":
                raise BackupError(f"the backup's history is damaged: {status}")
            conversations, messages = _counts(db)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the backup's history is not a usable database: {exc}") from exc
    return BackupInfo(conversations, messages, [])


def _settings_from(archive: zipfile.ZipFile) -> dict[str, object] | None:
    if archive.getinfo(_SETTINGS).file_size > 16 * 1024 * 1024:
        raise BackupError("the backup's settings are larger than any real ones")
    try:
        data = json.loads(archive.read(_SETTINGS))
    except ValueError as exc:
        raise BackupError(f"the backup's settings are not JSON: {exc}") from exc
    return _without_keys(data) if isinstance(data, dict) else None


def _set_aside_db(path: Path, stamp: str) -> None:
    """The history being replaced, kept whole (with what its WAL holds) as
    `history.db.before-restore-<stamp>`, then removed with its -wal and -shm."""
    if not path.exists():
        return
    aside = path.with_name(f"{path.name}.before-restore-{stamp}")
    os.close(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        old = sqlite3.connect(path)
        try:
            out = sqlite3.connect(aside)
            with out:
                old.backup(out)
            out.close()
        finally:
            old.close()
    except sqlite3.DatabaseError:
        os.replace(path, aside)  # not readable as a database: kept as it is
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.unlink(path.with_name(path.name + suffix))


def _set_aside(path: Path, stamp: str) -> None:
    """Keep the file being replaced as `<name>.before-restore-<stamp>`."""
    if path.exists():
        os.replace(path, path.with_name(f"{path.name}.before-restore-{stamp}"))
