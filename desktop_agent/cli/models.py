"""`desktop-agent models list | pull REF | rm REF | import FILE.gguf`.

REF is a catalog id (`qwen3-1.7b`) or `hf:OWNER/REPO/FILE.gguf`; installed models
live in the data folder's `models/`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..app.paths import models_dir
from ..printable import printable
from ..providers.models import download
from ..providers.models.catalog import CATALOG, GB, fit_hint, this_machine
from ..providers.models.gguf import GGUFError
from ..providers.models.hub import HubError, NotFound
from ..providers.models.installed import ModelLibrary
from .common import fail

__all__ = ["import_main", "list_main", "pull_main", "rm_main"]


def _library() -> ModelLibrary:
    return ModelLibrary(models_dir())


def list_main() -> int:
    library = _library()
    machine = this_machine(library.folder)
    print(
        f"Catalog (this computer: {machine.ram / GB:.1f} GB memory, "
        f"{machine.free_disk / GB:.1f} GB free disk)"
    )
    installed = {m.catalog_id for m in library.models()}
    for entry in CATALOG:
        fits, hint = fit_hint(entry, machine)
        flags = ", ".join(f for f, on in (("tools", entry.tools), ("vision", entry.vision)) if on)
        mark = "installed" if entry.id in installed else hint
        print(
            f"  {entry.id:<14} {entry.name:<22} {entry.quant:<7} ~{entry.size / GB:4.1f} GB  "
            f"ctx {entry.context // 1024:>3}k  {entry.licence:<20} {flags or '-':<12} "
            f"{'' if fits else '! '}{mark}"
        )
    models = library.models()
    print("Installed" if models else "Installed: none (desktop-agent models pull ID)")
    for model in models:
        where = model.repo or "imported"
        print(f"  {printable(where)}  {printable(model.file)}  {model.size / GB:.2f} GB")
    for part in library.partials():
        print(f"  unfinished: {printable(part.name.removesuffix('.part'))} (pull again to resume)")
    return 0


def pull_main(
    ref: str,
    *,
    disk_free: Callable[[Path], int] = download.free_space,
    backoff: float = 0.5,
) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    library = _library()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task: list[TaskID] = []

    def started(remote: download.RemoteFile, have: int) -> None:
        if have:
            sys.stderr.write(f"resuming {printable(remote.file)} from {have:,} bytes\n")
        task.append(progress.add_task(printable(remote.file), total=remote.size))
        progress.start()

    def advanced(done: int, total: int) -> None:
        if task:
            progress.update(task[0], completed=done, total=total)

    cancel = threading.Event()
    try:
        try:
            model = download.pull(
                ref,
                library,
                on_start=started,
                on_progress=advanced,
                cancel=cancel,
                disk_free=disk_free,
                backoff=backoff,
            )
        finally:
            progress.stop()
    except ValueError as exc:
        return fail(str(exc))
    except NotFound as exc:
        return fail(f"not found: {exc}")
    except (HubError, download.DownloadError, OSError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write("paused: run the same pull again to resume\n")
        return 130
    print(f"installed {printable(model.id)} ({model.size:,} bytes, sha256 {model.sha256})")
    return 0


def rm_main(ref: str) -> int:
    library = _library()
    removed = library.remove(ref)
    partial = False
    if removed is None:
        try:
            partial = download.discard_partial(ref, library)
        except ValueError:
            partial = False
    if removed is None and not partial:
        return fail(f"no installed model {ref!r} (see `desktop-agent models list`)")
    print(f"removed {printable(removed.id if removed else ref + ' (unfinished download)')}")
    return 0


def import_main(path: str) -> int:
    try:
        model = download.import_gguf(Path(path), _library())
    except GGUFError as exc:
        return fail(f"refused: {exc}")
    except (FileExistsError, OSError) as exc:
        return fail(str(exc))
    print(f"imported {printable(model.id)} ({model.size:,} bytes)")
    return 0
