"""Files only the user can read, written so that a crash or a second process never
loses them. (Stdlib only; imported before the window's first paint.)

* The data folder and its `logs` folder are 0700, every file in them 0600: files are
  created so (not left to the umask), and looser ones from older versions are
  tightened at start (`tighten_data_dir`). Nothing here changes on Windows, where
  the user's profile folder is already private.
* `write_private`: a unique temporary file in the same folder (`mkstemp`, 0600),
  fsync, `os.replace`, fsync of the folder: readers see the old or the new file,
  never half of one, and two writers never share a temporary name.
* `file_lock`: an exclusive lock across processes (`flock`; `msvcrt.locking` on
  Windows) around a read-modify-write.
* `rotating_log_handler` and `open_private_log`: logs with a size cap.

(`logging.handlers` and `tempfile` — ~14 ms with what they pull in — are imported
when first needed, not before the window's first paint.)
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "LOG_BACKUPS",
    "LOG_MAX_BYTES",
    "file_lock",
    "open_private_log",
    "private_dir",
    "rotate_if_large",
    "rotating_log_handler",
    "tighten",
    "tighten_data_dir",
    "write_private",
]

_log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
#: Every log: at most this size, then renamed to .1 (.1 to .2, ...), this many kept.
LOG_MAX_BYTES = 1024 * 1024
LOG_BACKUPS = 3

_POSIX = os.name == "posix"


def tighten(path: Path, mode: int) -> None:
    """`chmod mode` when group or others have any access (POSIX; symlinks and other
    users' files are left alone)."""
    if not _POSIX:
        return
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077 or st.st_uid != os.getuid():
            return
        os.chmod(path, mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        _log.warning("cannot make %s private: %s", path, exc)


def private_dir(path: Path) -> Path:
    """`path` as a folder only the user can enter (created 0700 if missing)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def tighten_data_dir(folder: Path) -> None:
    """The data folder, its `logs` folder and every file directly in them made private
    (for folders made by an older version, or under a loose umask)."""
    private_dir(folder)
    for where in (folder, folder / "logs"):
        if where is not folder:
            if not where.is_dir() or where.is_symlink():
                continue
            tighten(where, DIR_MODE)
        with contextlib.suppress(OSError), os.scandir(where) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    tighten(Path(entry.path), FILE_MODE)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op elsewhere)."""
    if not _POSIX:
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # some file systems refuse it; the file itself is synced
        _log.debug("cannot fsync %s: %s", folder, exc)


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically and durably; the file is 0600."""
    folder = path.parent
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created 0600) across processes and threads
    (each holder opens the file itself, so threads of one process exclude each
    other too)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:  # LK_LOCK itself retries for ~10 s, then raises
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def rotate_if_large(path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS) -> None:
    """`path` -> `path.1` (-> `path.2` ...) when it is over `max_bytes`."""
    try:
        if path.stat().st_size <= max_bytes:
            return
    except OSError:
        return
    for n in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    if backups > 0:
        os.replace(path, path.with_name(f"{path.name}.1"))
    else:
        path.unlink()


def open_private_log(path: Path) -> IO[str]:
    """`path` opened for appending (0600, in a private folder), rotated first when it
    is over the cap: for a child process's stderr, which is written straight to the
    file (so the cap applies at each start, not while the child runs)."""
    private_dir(path.parent)
    rotate_if_large(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    tighten(path, FILE_MODE)
    return open(fd, "a", encoding="utf-8")


def rotating_log_handler(
    path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS
) -> logging.Handler:
    """A size-capped log (1 MB x 3 by default) whose files are 0600."""
    private_dir(path.parent)
    return _CappedLog(path, max_bytes, backups)


class _CappedLog(logging.FileHandler):
    """`logging.FileHandler` that rolls `path` over to `path.1`... before a record
    would take it past `max_bytes` (what `RotatingFileHandler` does, without
    importing `logging.handlers` — socket, pickle, queue: ~7 ms before the first
    paint)."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.max_bytes, self.backups = max_bytes, backups
        super().__init__(path, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        tighten(Path(self.baseFilename), FILE_MODE)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self.stream
            if stream is not None and self.max_bytes > 0:
                size = stream.tell() + len(self.format(record)) + 1
                if size > self.max_bytes:
                    self.stream = None  # (reopened by emit)
                    stream.close()
                    rotate_if_large(Path(self.baseFilename), 0, self.backups)
        except Exception:
            self.handleError(record)
            return
        super().emit(record)
