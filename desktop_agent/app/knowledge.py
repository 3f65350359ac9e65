"""A project's knowledge: reading its files and folders into passages, and keeping
the index in step with the disk.

`index_paths(db, project_id, paths)` adds files or folders and indexes them;
`rescan(db, project_id)` walks every source again: a file whose mtime or size
changed is read again and, if its sha256 changed too, re-indexed; a file gone from
disk is removed with its passages. Text and code (any encoding) and PDFs (page by
page) are read with the attachments' readers; binary, image, empty, too large and
unreadable files are recorded as skipped, with the reason, and never stop the rest.

Both open their own connection to the history database (`Store(..., session=False)`),
so they can run on a worker thread while the window or the CLI uses its own; each
file is one short transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..storage import Store
from ..storage.projects import Passage, ProjectStore
from .attachments import AttachmentError
from .passages import split_pages, split_text

__all__ = [
    "MAX_FILE_BYTES",
    "IndexReport",
    "Progress",
    "index_paths",
    "read_passages",
    "rescan",
]

#: Files larger than this are skipped (with the reason).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Text read from one PDF at most (characters).
MAX_PDF_CHARS = 5_000_000
#: Folders never walked into (besides hidden ones).
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
_IMAGES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")

#: progress(files done, files found, the file being read)
Progress = Callable[[int, int, str], None]


class SkipFile(Exception):
    """A file that is not indexed; the message is the reason shown to the user."""


@dataclass
class IndexReport:
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    passages: int = 0
    #: (path, reason) of the files skipped in this pass.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: Sources (files or folders) that are not on disk any more.
    missing: list[str] = field(default_factory=list)
    cancelled: bool = False

    def summary(self) -> str:
        text = (
            f"{self.indexed} indexed ({self.passages} passages), {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped, {self.removed} removed"
        )
        if self.missing:
            text += f"; not found: {', '.join(self.missing)}"
        return text + (" (cancelled)" if self.cancelled else "")


def read_passages(name: str, data: bytes) -> list[Passage]:
    """The passages of a file's bytes; raises `SkipFile` with the reason."""
    if data.startswith(b"%PDF-"):
        from .attachment_documents import pdf_pages

        try:
            pages = pdf_pages(name, data, max_chars=MAX_PDF_CHARS)
        except AttachmentError as exc:
            raise SkipFile(str(exc)) from None
        passages = split_pages(pages)
        if not passages:
            raise SkipFile("a PDF without a text layer (scanned?): nothing to index")
        return passages
    if data.startswith(_IMAGES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        raise SkipFile("an image: no text to index")
    from .attachment_documents import decode_text

    try:
        text = decode_text(name, data)
    except AttachmentError:
        raise SkipFile("a binary file (not text, code or PDF)") from None
    passages = split_text(text)
    if not passages:
        raise SkipFile("empty (no text)")
    return passages


def _walk(root: Path) -> Iterator[Path]:
    """The regular files under `root` (itself, if it is one), in a stable order;
    hidden and dependency folders are left out, symbolic links are not followed."""
    if not root.is_dir():
        yield root
        return
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder, name)


def _index_one(
    projects: ProjectStore,
    project_id: str,
    source_id: int,
    path: Path,
    known: dict[str, tuple[int, float, int, str | None, str]],
    report: IndexReport,
) -> None:
    key = str(path)
    try:
        st = path.lstat()
    except OSError as exc:
        why = f"cannot be read: {exc.strerror or exc}"
        projects.put_file(project_id, source_id, key, mtime=0, size=0, sha256=None, reason=why)
        report.skipped.append((key, why))
        return
    old = known.get(key)
    if old is not None and old[1] == st.st_mtime and old[2] == st.st_size:
        report.unchanged += 1
        return
    reason: str | None = None
    digest = None
    passages: list[Passage] = []
    if stat.S_ISLNK(st.st_mode):
        reason = "a symbolic link (not followed)"
    elif not stat.S_ISREG(st.st_mode):
        reason = "not a regular file"
    elif st.st_size > MAX_FILE_BYTES:
        reason = f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = f"cannot be read: {exc.strerror or exc}"
        else:
            digest = hashlib.sha256(data).hexdigest()
            if old is not None and old[3] == digest and old[4] == "indexed":
                projects.touch_file(old[0], st.st_mtime)
                report.unchanged += 1
                return
            try:
                passages = read_passages(path.name, data)
            except SkipFile as exc:
                reason = str(exc)
    projects.put_file(
        project_id,
        source_id,
        key,
        mtime=st.st_mtime,
        size=st.st_size,
        sha256=digest,
        passages=passages,
        reason=reason,
    )
    if reason:
        report.skipped.append((key, reason))
    else:
        report.indexed += 1
        report.passages += len(passages)


def _scan(
    projects: ProjectStore,
    project_id: str,
    sources: Sequence[tuple[int, str]],
    progress: Progress | None,
    cancel: threading.Event | None,
) -> IndexReport:
    report = IndexReport()
    known = {
        f.path: (f.id, f.mtime, f.size, f.sha256, f.status) for f in projects.files(project_id)
    }
    found: list[tuple[int, Path]] = []
    for source_id, root in sources:
        if not os.path.lexists(root):
            report.missing.append(root)
            continue
        found += [(source_id, path) for path in _walk(Path(root))]
    seen = {str(path) for _, path in found}
    for done, (source_id, path) in enumerate(found):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            return report
        if progress is not None:
            progress(done, len(found), str(path))
        _index_one(projects, project_id, source_id, path, known, report)
    if progress is not None:
        progress(len(found), len(found), "")
    source_ids = {s for s, _ in sources}
    gone = [
        f.id for f in projects.files(project_id) if f.path not in seen and f.source_id in source_ids
    ]
    report.removed = projects.remove_files(gone)
    return report


def index_paths(
    db: Path,
    project_id: str,
    paths: Sequence[str | Path],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """Add files or folders to a project and index them (what is already indexed and
    unchanged is not read again)."""
    store = Store(db, session=False)
    try:
        projects = ProjectStore(store)
        if projects.get(project_id) is None:
            raise LookupError(f"no project {project_id!r}")
        sources = []
        for path in paths:
            absolute = os.path.abspath(os.path.expanduser(str(path)))
            if not os.path.lexists(absolute):
                raise FileNotFoundError(f"{path}: no such file or folder")
            sources.append((projects.add_source(project_id, absolute), absolute))
        return _scan(projects, project_id, sources, progress, cancel)
    finally:
        _checkpoint(store)
        store.close()


def rescan(
    db: Path,
    project_id: str,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> IndexReport:
    """Walk every file and folder of the project again: changed files re-indexed,
    new ones added, deleted ones removed."""
    store = Store(db, session=False)
    try:
        projects = ProjectStore(store)
        return _scan(projects, project_id, projects.sources(project_id), progress, cancel)
    finally:
        _checkpoint(store)
        store.close()


def _checkpoint(store: Store) -> None:
    """Fold the write-ahead log into the database here, on the indexing thread: after
    thousands of files a long WAL slows every later read (the window's too)."""
    import sqlite3

    with contextlib.suppress(sqlite3.Error):
        store._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
