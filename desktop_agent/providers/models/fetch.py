"""One file from the hub into a `.part` file: resumed, hashed as it arrives.

The standard library's HTTP client reads the body (`HTTPResponse.read1`: at most one
`recv` per call, so a slow line still reports progress and notices a pause as bytes
arrive, and a fast one is read up to a MiB at a time); httpx read each piece into a
new object and h11 copied it twice more (0.6× curl measured, against ~1.0× now: see
tests/bench/bench_download.py). The receiving thread writes each piece; a thread of
its own hashes it (sha256 releases the GIL), so reading and hashing use both cores,
and every WRITEBACK bytes the kernel is asked to start writing them out, leaving the
final fsync little to wait for.

What the server says is checked before a byte is kept: a 206 must be the range asked
for, of the file announced; a 200 to a `Range` replaces the partial only when it is
the whole file; a body longer than announced is refused. Dropped connections,
timeouts, a line slower than 1 KiB/s for a minute and 5xx/408/429 answers are
retried from where the file stopped (backoff, reset whenever bytes arrive, except
on a line that stays too slow); other
4xx answers end the download at once (a signed CDN address that expired needs a new
one: `pull` asks the hub again). A redirect to another origin carries no token,
cookie or proxy password.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...private_files import FILE_MODE
from .hub import NotFound, RemoteFile

__all__ = ["CHUNK", "Cancelled", "ChecksumMismatch", "DownloadError", "Progress", "fetch"]

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
CHUNK = 1 << 20
#: progress is reported at least this often (seconds) while bytes arrive
REPORT_EVERY = 0.25
#: a connection that brings fewer bytes than this in this many seconds is dropped and
#: tried again from where it stopped (curl's --speed-limit / --speed-time)
LOW_SPEED = (1024 * 60, 60.0)
#: HTTP answers worth asking again (the rest of 4xx will not change by asking)
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
#: open flags of the partial file (binary on Windows: no newline translation)
PART_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)


class DownloadError(Exception):
    """The download stopped (the partial file is kept unless said otherwise)."""


class ChecksumMismatch(DownloadError):
    pass


class Cancelled(DownloadError):
    pass


class _Stale(OSError):
    """An answer that does not fit what we have: ask again, keep the file as it is."""


class _TooSlow(OSError):
    """A connection under the speed floor: tried again, and counted as a failure even
    though some bytes came (a line that stays that slow ends the download)."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Sink:
    """Where the bytes go: `put` writes a piece to the file, then a thread of its own
    hashes it while the next piece arrives, so the file and the hash take the same
    bytes in the same order (at most QUEUED pieces wait for the hash). Every
    WRITEBACK bytes hashed it asks the kernel to start writing them out (Linux;
    elsewhere the fsync does it all). A write or hash that fails is a
    DownloadError, never retried."""

    QUEUED = 8
    WRITEBACK = 32 << 20

    def __init__(self, fd: int, hasher: hashlib._Hash) -> None:
        self.fd, self.hasher = fd, hasher
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self.QUEUED)
        self.error: BaseException | None = None
        self.hashed = self.flushed = os.fstat(fd).st_size
        self.thread = threading.Thread(target=self._run, name="download-hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            data = self.queue.get()
            try:
                if data is None:
                    return
                if self.error is None:
                    self.hasher.update(data)
                    self.hashed += len(data)
                    if self.hashed - self.flushed >= self.WRITEBACK:
                        self._writeback()
            except BaseException as exc:  # reported to the receiving thread
                self.error = exc
            finally:
                self.queue.task_done()

    def _writeback(self) -> None:
        # (Linux starts writing dirty pages out for FADV_DONTNEED without waiting)
        if hasattr(os, "posix_fadvise"):
            length = self.hashed - self.flushed
            os.posix_fadvise(self.fd, self.flushed, length, os.POSIX_FADV_DONTNEED)
        self.flushed = self.hashed

    def _check(self) -> None:
        if self.error is not None:
            raise DownloadError(f"the download could not be kept: {self.error}") from None

    def put(self, data: bytes) -> None:
        self._check()
        try:
            _write_all(self.fd, data)
        except OSError as exc:  # a full disk is not a dropped connection: no retry
            raise DownloadError(f"the download could not be written: {exc}") from None
        self.queue.put(data)

    def restart(self) -> None:
        """Throw away everything (the server sent the whole file instead of a range)."""
        self.drain()
        os.ftruncate(self.fd, 0)  # (appending: the next write lands at 0)
        self.hasher, self.hashed, self.flushed = hashlib.sha256(), 0, 0

    def drain(self) -> None:
        self.queue.join()
        self._check()

    def close(self) -> None:
        """Stop the hashing thread once it has taken everything queued."""
        self.queue.put(None)
        self.thread.join()


class _NoCrossOriginAuth(urllib.request.HTTPRedirectHandler):
    """Follows redirects; a token or cookie never leaves for another origin, and the
    proxy's password is never carried over (ProxyHandler adds it again where the
    next hop goes through the proxy)."""

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
        if new is not None:
            secret = ["Proxy-authorization"]
            if _origin(new.full_url) != _origin(req.full_url):
                secret += ["Authorization", "Cookie"]
            for name in secret:
                new.remove_header(name)
        return new


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _opener() -> urllib.request.OpenerDirector:
    """The proxy variables apply (`ProxyHandler`); certificates are checked against
    the CA bundle httpx uses."""
    import httpx2

    context = httpx2.create_ssl_context()
    return urllib.request.build_opener(
        urllib.request.ProxyHandler(),
        urllib.request.HTTPSHandler(context=context),
        _NoCrossOriginAuth(),
    )


def _check_answer(response: Any, offset: int, remote: RemoteFile) -> bool:
    """True when the body starts the file over (a 200 to a range: the whole file);
    _Stale when the answer is not the part asked for, of the file announced."""
    size, status = remote.size, response.status
    if response.headers.get("Content-Encoding", "identity") not in ("identity", ""):
        raise _Stale(f"the server encoded the file ({response.headers['Content-Encoding']})")
    if status == 206:
        expected = f"bytes {offset}-{size - 1}/{size}"
        got = (response.headers.get("Content-Range") or "").strip()
        if got != expected:
            raise _Stale(f"the server sent another part than asked ({got!r}, not {expected!r})")
        return False
    if status != 200:
        raise _Stale(f"HTTP {status}")
    length = response.headers.get("Content-Length")
    if offset and length is not None and length.strip() != str(size):
        raise _Stale(f"the server answered the range with {length} bytes, not the file")
    return bool(offset)


class _Transfer:
    """Where a download is: reads the body into the sink up to the file's size,
    reporting progress every CHUNK bytes or REPORT_EVERY seconds; a connection slower
    than `low_speed` (bytes in seconds) is given up (an OSError: tried again)."""

    def __init__(
        self,
        size: int,
        offset: int,
        on_progress: Progress | None,
        cancel: threading.Event | None,
        low_speed: tuple[int, float] = LOW_SPEED,
    ) -> None:
        self.size, self.offset = size, offset
        self.on_progress, self.cancel = on_progress, cancel
        self.low_speed = low_speed
        self.reported, self.reported_at = offset, time.monotonic()
        if on_progress:
            on_progress(offset, size)

    def restart(self) -> None:
        self.offset = self.reported = 0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("paused")

    def receive(self, response: Any, sink: _Sink) -> None:
        least, seconds = self.low_speed
        window_offset, window_start = self.offset, time.monotonic()
        while self.offset < self.size:
            data = response.read1(min(CHUNK, self.size - self.offset))
            if not data:
                raise OSError("the connection closed early")
            sink.put(data)
            self.offset += len(data)
            now = time.monotonic()
            if now - window_start >= seconds:
                if self.offset - window_offset < least:
                    raise _TooSlow(
                        f"the connection is too slow (under {least:,} bytes in {seconds:g} s)"
                    )
                window_offset, window_start = self.offset, now
            if self.on_progress and (
                self.offset - self.reported >= CHUNK
                or now - self.reported_at >= REPORT_EVERY
                or self.offset == self.size
            ):
                self.reported, self.reported_at = self.offset, now
                self.on_progress(self.offset, self.size)
            self.check_cancel()
        if response.read1(1):
            raise ChecksumMismatch("the server sent more bytes than the hub announced")


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
    low_speed: tuple[int, float] = LOW_SPEED,
) -> str:
    """Download `remote` into `part` (resuming what is there); its sha256 (hex)."""
    hasher = hashlib.sha256()
    offset = _hash_existing(part, hasher) if part.exists() else 0
    if offset > remote.size:
        part.unlink()
        hasher, offset = hashlib.sha256(), 0
    transfer = _Transfer(remote.size, offset, on_progress, cancel, low_speed)
    failures = 0
    opener = _opener()
    fd = os.open(part, PART_FLAGS, FILE_MODE)
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
                        if _check_answer(response, offset, remote):
                            sink.restart()
                            transfer.restart()
                        transfer.receive(response, sink)
                except urllib.error.HTTPError as exc:
                    if exc.code in (404, 410):
                        gone = f"{remote.repo}/{remote.file} is gone from the hub"
                        raise NotFound(gone) from None
                    if exc.code not in RETRYABLE:
                        raise DownloadError(
                            f"the hub's server refused the download (HTTP {exc.code}) at "
                            f"{offset:,} of {remote.size:,} bytes; run the same pull again "
                            "to resume"
                        ) from None
                    failures = _retry(failures, retries, backoff, sleep, offset, remote, exc)
                except (OSError, http.client.HTTPException) as exc:
                    if transfer.offset > offset and not isinstance(exc, _TooSlow):
                        failures = 0  # bytes arrived: a fresh count of retries
                    failures = _retry(
                        failures, retries, backoff, sleep, transfer.offset, remote, exc
                    )
            sink.drain()
        finally:
            sink.close()  # everything received is on disk (and hashed) before we leave
        try:
            os.fsync(fd)
        except OSError as exc:
            raise DownloadError(f"the download could not be written: {exc}") from None
    finally:
        os.close(fd)
    return sink.hasher.hexdigest()


def _hash_existing(part: Path, hasher: hashlib._Hash) -> int:
    size = 0
    with part.open("rb") as handle:
        while data := handle.read(CHUNK):
            hasher.update(data)
            size += len(data)
    return size


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
