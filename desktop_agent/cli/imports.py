"""`desktop-agent import | backup | restore`.

desktop-agent import FILE [--max-conversation-mb MB]   ChatGPT / Claude / Open WebUI / ours
desktop-agent backup FILE                              history + settings, no keys
desktop-agent restore FILE [--force]
"""

from __future__ import annotations

from pathlib import Path

from ..app.attachments import AttachmentLimits, for_import
from ..app.backup import BackupError, backup, restore
from ..app.paths import data_dir
from ..app.settings import load_settings
from ..printable import printable
from ..storage.importers import ImportFormatError, Limits, import_file
from .common import fail, open_store

__all__ = ["backup_main", "import_main", "restore_main"]

#: Up to this many imported conversations are listed one per line.
_LISTED = 20


def import_main(path: str, *, max_conversation_mb: int = 256) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    if (store := open_store()) is None:
        return 1
    console = Console(stderr=True)
    attach = AttachmentLimits.from_settings(load_settings())
    limits = Limits(
        conversation_bytes=max_conversation_mb * 1024 * 1024,
        attachment_bytes=attach.file_bytes,
        message_files=attach.files,
        message_bytes=attach.message_bytes,
    )
    columns = (
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[done]} conversations"),
        TimeRemainingColumn(),
    )
    try:
        quiet = not console.is_terminal
        with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
            task = bar.add_task("import", total=None, done=0)

            def progress(read: int, total: int, done: int) -> None:
                bar.update(task, completed=read, total=total, done=done)

            summary = import_file(
                store, path, limits=limits, progress=progress, prepare=for_import(attach)
            )
    except ImportFormatError as exc:
        return fail(f"cannot import {path}: {exc}")
    except KeyboardInterrupt:
        return fail("stopped; the conversations imported so far are kept")
    finally:
        store.close()
    if len(summary.imported) <= _LISTED:
        for conversation_id, title in summary.imported:
            print(f"imported {conversation_id}  {printable(title)}")
    for line in summary.lines():
        print(printable(line))
    return 1 if summary.error else 0


def backup_main(path: str) -> int:
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        return fail(f"{path} is a folder; give a file name for the backup")
    try:
        info = backup(data_dir(), target)
    except (BackupError, OSError) as exc:
        return fail(f"cannot back up: {exc}")
    print(
        f"backed up {info.conversations} conversations ({info.messages} messages) and "
        f"{'settings' if 'settings.json' in info.files else 'no settings'} to {target} "
        "(API keys are not included: enter them again after restoring)"
    )
    return 0


def restore_main(path: str, *, force: bool = False) -> int:
    folder = data_dir()
    try:
        info = restore(folder, Path(path).expanduser(), force=force)
    except (BackupError, OSError) as exc:
        return fail(f"cannot restore {path}: {exc}")
    print(
        f"restored {info.conversations} conversations ({info.messages} messages) into {folder}"
        + (" with settings" if "settings.json" in info.files else "")
    )
    return 0
