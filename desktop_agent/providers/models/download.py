"""Downloads that resume and are verified.

A file is fetched into `FILE.part` next to where it will live, hashed as the bytes
arrive; a dropped connection is resumed with an HTTP `Range` request from where it
stopped (a few retries with backoff, reset whenever bytes arrive), and a later pull
resumes a `.part` left by an earlier one (`FILE.part.json` records which version of
the file it is: a different sha256 on the hub starts over). Only a file whose sha256
matches the hub's becomes the model; on a mismatch every byte downloaded is deleted.
A catalog entry that pins a sha256 must agree with the hub's before anything is
fetched: a file replaced upstream is refused (`ChecksumMismatch`), not installed.
`huggingface_hub.hf_hub_download` restarts small files from zero, drops its partial
file on failure and does not check the sha256, hence this module (and fetch.py, the
transfer itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...private_files import FILE_MODE, file_lock, private_dir
from .fetch import CHUNK, Cancelled, ChecksumMismatch, DownloadError, Progress, fetch
from .gguf import GGUFError, check_magic
from .hub import HubError, NotFound, RemoteFile, parse_ref, remote_file
from .installed import IMPORTED, InstalledModel, ModelLibrary, safe_name

__all__ = [
    "Cancelled",
    "ChecksumMismatch",
    "DownloadError",
    "NotEnoughSpace",
    "fetch",
    "import_gguf",
    "pull",
]

#: kept free beyond the model itself
RESERVE = 100 * 1024 * 1024


class NotEnoughSpace(DownloadError):
    pass


def free_space(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _discard(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def pull(
    ref: str,
    library: ModelLibrary,
    *,
    on_progress: Progress | None = None,
    on_start: Callable[[RemoteFile, int], None] | None = None,
    cancel: threading.Event | None = None,
    disk_free: Callable[[Path], int] = free_space,
    retries: int = 4,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> InstalledModel:
    """Download and verify `ref` (catalog id or hf:OWNER/REPO/FILE.gguf) into `library`.

    Raises ValueError (bad reference), NotFound, HubError, NotEnoughSpace,
    ChecksumMismatch (nothing kept; also when the hub's sha256 is not the one the
    catalog pins), Cancelled or DownloadError (partial kept)."""
    repo, file, entry = parse_ref(ref)
    installed = library.find(f"{repo}/{file}")
    if installed is not None:
        return installed
    remote = remote_file(repo, file)
    if entry is not None and entry.sha256 is not None and entry.sha256 != remote.sha256:
        raise ChecksumMismatch(
            f"the hub's {remote.file} is not the file the catalog pins for {entry.id} "
            f"(the hub gives sha256 {remote.sha256[:12]}…, the catalog {entry.sha256[:12]}…); "
            "nothing was downloaded"
        )
    final = library.path_for(repo, file)
    private_dir(final.parent)
    part = final.with_name(final.name + ".part")
    meta = final.with_name(final.name + ".part.json")
    locks = private_dir(library.folder / ".locks")
    with file_lock(locks / safe_name(f"{repo}--{file}.lock")):  # one download per file
        try:
            known = json.loads(meta.read_text(encoding="utf-8")).get("sha256")
        except (OSError, ValueError, AttributeError):
            known = None
        if part.exists() and known != remote.sha256:  # another version of the file
            _discard(part)
        meta.write_text(json.dumps({"sha256": remote.sha256, "size": remote.size}))
        have = part.stat().st_size if part.exists() else 0
        need = max(remote.size - have, 0)
        free = disk_free(final.parent)
        if need + RESERVE > free:
            raise NotEnoughSpace(
                f"{remote.file} needs {need / 1e9:.2f} GB more and only "
                f"{max(free - RESERVE, 0) / 1e9:.2f} GB is free to use in {library.folder}"
            )
        if on_start:
            on_start(remote, have)
        digest = fetch(
            remote,
            part,
            on_progress=on_progress,
            cancel=cancel,
            retries=retries,
            backoff=backoff,
            sleep=sleep,
        )
        if digest != remote.sha256:
            _discard(part, meta)
            library._prune(final.parent)
            raise ChecksumMismatch(
                f"the checksum of {remote.file} did not match the hub's "
                f"(sha256 {digest[:12]}…, expected {remote.sha256[:12]}…); nothing was kept"
            )
        os.replace(part, final)
        _discard(meta)
    try:
        check_magic(final)
    except GGUFError as exc:
        _discard(final)
        raise DownloadError(str(exc)) from None
    model = InstalledModel(
        id=f"{repo}/{file}",
        repo=repo,
        file=file,
        path=str(final.relative_to(library.folder)),
        sha256=digest,
        size=remote.size,
        catalog_id=entry.id if entry else "",
    )
    return library.add(model)


def discard_partial(ref: str, library: ModelLibrary) -> bool:
    """Delete an unfinished download of `ref`; True if there was one."""
    repo, file, _ = parse_ref(ref)
    final = library.path_for(repo, file)
    part = final.with_name(final.name + ".part")
    existed = part.exists()
    _discard(part, final.with_name(final.name + ".part.json"))
    library._prune(final.parent)
    return existed


def partial_size(ref: str, library: ModelLibrary) -> int:
    repo, file, _ = parse_ref(ref)
    final = library.path_for(repo, file)
    part = final.with_name(final.name + ".part")
    return part.stat().st_size if part.exists() else 0


def import_gguf(source: Path, library: ModelLibrary) -> InstalledModel:
    """Copy a GGUF file into the library (hashing it on the way); GGUFError if it is
    not one, FileExistsError if a model of that name is installed."""
    check_magic(source)
    name = safe_name(source.name)
    folder = private_dir(library.ensure() / IMPORTED)
    target = folder / name
    model_id = f"{IMPORTED}/{name}"
    if target.exists() or library.find(model_id) is not None:
        raise FileExistsError(f"a model named {name} is already installed")
    tmp = folder / f".{name}.importing"
    hasher = hashlib.sha256()
    size = 0
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, FILE_MODE)
        with source.open("rb") as src, os.fdopen(fd, "wb") as out:
            while data := src.read(CHUNK):
                out.write(data)
                hasher.update(data)
                size += len(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        _discard(tmp)
        raise
    model = InstalledModel(
        id=model_id,
        repo="",
        file=name,
        path=f"{IMPORTED}/{name}",
        sha256=hasher.hexdigest(),
        size=size,
        source="import",
    )
    return library.add(model)


__all__ += ["HubError", "NotFound", "RemoteFile", "discard_partial", "partial_size"]
