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
import http.client
import json
import os
import queue
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


class _Sink:
    """Where the bytes go. They come in a few reused buffers (`take()` one, fill it,
    `put()` it: no allocation per read); `put` writes a buffer to the file, then a
    thread of its own hashes it while the next bytes arrive (both release the GIL
    on big buffers: reading and writing on one core, hashing on the other), so the
    file and the hash take the same bytes in the same order. Every WRITEBACK bytes
    hashed it asks the kernel to start writing them out (where it can), so the fsync
    at the end has little left to wait for. `drain()` waits for what is queued;
    errors surface at the next call."""

    BUFFERS = 8
    WRITEBACK = 32 << 20

    def __init__(self, fd: int, hasher: hashlib._Hash) -> None:
        self.fd, self.hasher = fd, hasher
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(self.BUFFERS):
            self.free.put(bytearray(CHUNK))
        self.queue: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self.error: BaseException | None = None
        self.written = self.flushed = os.fstat(fd).st_size
        self.thread = threading.Thread(target=self._run, name="download-hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                buffer, size = item
                if self.error is None:
                    self.hasher.update(memoryview(buffer)[:size])
                    self.written += size
                    if self.written - self.flushed >= self.WRITEBACK:
                        self._writeback(self.written)
                self.free.put(buffer)
            except BaseException as exc:  # reported to the downloading thread
                self.error = exc
            finally:
                self.queue.task_done()

    def _writeback(self, upto: int) -> None:
        # Linux starts writing dirty pages out for FADV_DONTNEED without waiting
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fd, self.flushed, upto - self.flushed, os.POSIX_FADV_DONTNEED)
        self.flushed = upto

    def _check(self) -> None:
        if self.error is not None:
            raise self.error

    def take(self) -> bytearray:
        self._check()
        return self.free.get()

    def give_back(self, buffer: bytearray) -> None:
        self.free.put(buffer)

    def put(self, buffer: bytearray, size: int) -> None:
        try:
            _write_all(self.fd, memoryview(buffer)[:size])
        except OSError as exc:  # a full disk is not a dropped connection: no retry
            self.give_back(buffer)
            raise DownloadError(f"the download could not be written: {exc}") from None
        self.queue.put((buffer, size))

    def restart(self) -> None:
        """Throw away everything (the server ignored a Range and sends it all)."""
        self.drain()
        os.ftruncate(self.fd, 0)  # (appending: the next write lands at 0)
        self.hasher, self.written, self.flushed = hashlib.sha256(), 0, 0

    def drain(self) -> None:
        self.queue.join()
        self._check()

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._check()


class _NoCrossOriginAuth(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but a token never leaves for another origin."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != _origin(req.full_url):
            for name in ("Authorization", "Cookie"):
                new.remove_header(name)
                new.remove_header(name.capitalize())
        return new


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


def _opener() -> urllib.request.OpenerDirector:
    """The standard library's HTTP client: it reads a body straight into our buffers
    (`readinto`), which is what keeps up with `curl` — httpx reads each piece into a
    new object and copies it twice more in h11 (0.6× curl measured). The proxy
    variables apply (`ProxyHandler`), and certificates are checked against the same
    CA bundle httpx uses."""
    import httpx2

    context = httpx2.create_ssl_context()
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(),
        urllib.request.HTTPSHandler(context=context),
        _NoCrossOriginAuth(),
    )


def _range_start(response: Any) -> int | None:
    """Where a 206's body starts (Content-Range: bytes START-END/SIZE)."""
    value = response.headers.get("Content-Range", "")
    unit, _, rest = value.partition(" ")
    try:
        return int(rest.split("-", 1)[0]) if unit == "bytes" else None
    except ValueError:
        return None


class _Transfer:
    """Where a download is, and how it reads: each read asks for what arrives in
    about READ_SECONDS at the rate just seen (MIN_READ to CHUNK bytes), so a fast
    line is read a MiB at a time and a slow one still reports progress and notices
    a pause within a second; progress is reported every CHUNK bytes or
    READ_SECONDS, whichever comes first."""

    MIN_READ = 64 << 10
    READ_SECONDS = 0.25

    def __init__(
        self,
        size: int,
        offset: int,
        on_progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        self.size, self.offset = size, offset
        self.on_progress, self.cancel = on_progress, cancel
        self.want = self.MIN_READ
        self.reported, self.reported_at = offset, time.monotonic()
        if on_progress:
            on_progress(offset, size)

    def restart(self) -> None:
        self.offset = self.reported = 0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("paused")

    def receive(self, response: Any, sink: _Sink) -> None:
        """Read the body into the sink up to the file's size."""
        while self.offset < self.size:
            buffer = sink.take()
            started = time.monotonic()
            try:
                got = response.readinto(
                    memoryview(buffer)[: min(self.want, self.size - self.offset)]
                )
            except BaseException:
                sink.give_back(buffer)
                raise
            if not got:
                sink.give_back(buffer)
                raise OSError("the connection closed early")
            sink.put(buffer, got)
            self.offset += got
            now = time.monotonic()
            self.want = next_read_size(got, now - started)
            if self.on_progress and (
                self.offset - self.reported >= CHUNK
                or now - self.reported_at >= self.READ_SECONDS
                or self.offset == self.size
            ):
                self.reported, self.reported_at = self.offset, now
                self.on_progress(self.offset, self.size)
            self.check_cancel()


def next_read_size(got: int, seconds: float) -> int:
    """What to ask for next after `got` bytes took `seconds`."""
    rate = got / max(seconds, 1e-6)
    return min(CHUNK, max(_Transfer.MIN_READ, int(rate * _Transfer.READ_SECONDS)))


def fetch(
    remote: RemoteFile,
    part: Path,
    *,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
    retries: int = 4,
    backoff: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 30.0,
) -> str:
    """Download `remote` into `part` (resuming what is there); its sha256 (hex)."""
    hasher = hashlib.sha256()
    offset = _hash_existing(part, hasher) if part.exists() else 0
    if offset > remote.size:
        part.unlink()
        hasher, offset = hashlib.sha256(), 0
    transfer = _Transfer(remote.size, offset, on_progress, cancel)
    failures = 0
    opener = _opener()
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        sink = _Sink(fd, hasher)
        try:
            while (offset := transfer.offset) < remote.size:
                transfer.check_cancel()
                headers = {**remote.headers, "Accept-Encoding": "identity"}
                if offset:
                    headers["Range"] = f"bytes={offset}-"
                request = urllib.request.Request(remote.url, headers=headers)
                try:
                    with opener.open(request, timeout=timeout) as response:
                        if response.status == 200 and offset:  # the range was ignored
                            sink.restart()
                            transfer.restart()
                        elif response.status == 206 and _range_start(response) != offset:
                            raise DownloadError(
                                f"the server sent another part of {remote.file} than asked "
                                f"({response.headers.get('Content-Range')!r} for byte {offset})"
                            )
                        elif response.status not in (200, 206):
                            raise OSError(f"HTTP {response.status}")
                        transfer.receive(response, sink)
                        if response.read(1):
                            raise ChecksumMismatch("more bytes than the hub announced")
                except urllib.error.HTTPError as exc:
                    if exc.code in (404, 410):
                        gone = f"{remote.repo}/{remote.file} is gone from the hub"
                        raise NotFound(gone) from None
                    failures = _retry(failures, retries, backoff, sleep, offset, remote, exc)
                except (OSError, http.client.HTTPException) as exc:
                    if transfer.offset > offset:  # bytes arrived: a fresh count of retries
                        failures = 0
                    failures = _retry(
                        failures, retries, backoff, sleep, transfer.offset, remote, exc
                    )
        finally:
            sink.close()  # everything received is on disk (and hashed) before we leave
        os.fsync(fd)
    finally:
        os.close(fd)
    return sink.hasher.hexdigest()


def _retry(
    failures: int,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
    offset: int,
    remote: RemoteFile,
    exc: BaseException,
) -> int:
    """Wait before the next try (longer each time); DownloadError after `retries`."""
    failures += 1
    if failures > retries:
        raise DownloadError(
            f"the download stopped at {offset:,} of {remote.size:,} bytes "
            f"({exc}); run the same pull again to resume"
        ) from None
    sleep(backoff * 2 ** (failures - 1))
    return failures


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
