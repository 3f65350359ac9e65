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
file on failure and does not check the sha256, hence this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ...private_files import FILE_MODE, file_lock, private_dir
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

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
CHUNK = 1 << 20
#: kept free beyond the model itself
RESERVE = 100 * 1024 * 1024


class DownloadError(Exception):
    """The download stopped (the partial file is kept unless said otherwise)."""


class ChecksumMismatch(DownloadError):
    pass


class NotEnoughSpace(DownloadError):
    pass


class Cancelled(DownloadError):
    pass


def free_space(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _hash_existing(part: Path, hasher: hashlib._Hash) -> int:
    size = 0
    with part.open("rb") as handle:
        while data := handle.read(CHUNK):
            hasher.update(data)
            size += len(data)
    return size


class _Sink:
    """Writes and hashes on a thread of its own while the next bytes arrive (both
    release the GIL on big buffers): the file always holds exactly the bytes hashed,
    in order. `drain()` waits for what is queued; errors surface at the next call."""

    def __init__(self, out: BinaryIO, hasher: hashlib._Hash) -> None:
        self.out, self.hasher = out, hasher
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="download-sink", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            data = self.queue.get()
            try:
                if data is None:
                    return
                if self.error is None:
                    self.out.write(data)
                    self.hasher.update(data)
            except BaseException as exc:  # reported to the downloading thread
                self.error = exc
            finally:
                self.queue.task_done()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def put(self, data: bytes) -> None:
        self._check()
        self.queue.put(data)

    def drain(self) -> None:
        self.queue.join()
        self._check()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self.out.flush()
        self._check()


def fetch(
    remote: RemoteFile,
    part: Path,
    *,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Download `remote` into `part` (resuming what is there); its sha256 (hex)."""
    import httpx2

    from .transport import download_transport, proxied

    hasher = hashlib.sha256()
    offset = _hash_existing(part, hasher) if part.exists() else 0
    if offset > remote.size:
        part.unlink()
        hasher, offset = hashlib.sha256(), 0
    if on_progress:
        on_progress(offset, remote.size)
    failures, reported = 0, offset
    timeout = httpx2.Timeout(connect=15.0, read=60.0, write=15.0, pool=15.0)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    with (
        os.fdopen(fd, "ab") as out,
        httpx2.Client(
            timeout=timeout,
            follow_redirects=True,
            trust_env=True,
            transport=None if proxied(remote.url) else download_transport(),
        ) as client,
    ):
        sink = _Sink(out, hasher)
        try:
            while offset < remote.size:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("paused")
                headers = {**remote.headers, "Accept-Encoding": "identity"}
                if offset:
                    headers["Range"] = f"bytes={offset}-"
                try:
                    with client.stream("GET", remote.url, headers=headers) as response:
                        if response.status_code in (404, 410):
                            raise NotFound(f"{remote.repo}/{remote.file} is gone from the hub")
                        if response.status_code == 200 and offset:  # the range was ignored
                            sink.drain()
                            out.truncate(0)
                            sink.hasher, offset = hashlib.sha256(), 0
                        elif response.status_code not in (200, 206):
                            raise httpx2.TransportError(f"HTTP {response.status_code}")
                        for data in response.iter_raw():  # identity encoding: raw is the file
                            if offset + len(data) > remote.size:
                                raise ChecksumMismatch("more bytes than the hub announced")
                            sink.put(data)
                            offset += len(data)
                            failures = 0
                            if on_progress and (
                                offset - reported >= CHUNK or offset == remote.size
                            ):
                                reported = offset
                                on_progress(offset, remote.size)
                            if cancel is not None and cancel.is_set():
                                raise Cancelled("paused")
                except httpx2.TransportError as exc:
                    failures += 1
                    if failures > retries:
                        raise DownloadError(
                            f"the download stopped at {offset:,} of {remote.size:,} bytes "
                            f"({exc}); run the same pull again to resume"
                        ) from None
                    sleep(backoff * 2 ** (failures - 1))
        finally:
            sink.close()  # everything received is on disk (and hashed) before we leave
        os.fsync(out.fileno())
    return sink.hasher.hexdigest()


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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
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
