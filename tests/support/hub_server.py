"""A scripted Hugging Face hub on 127.0.0.1, answering the way the real one does.

* `HEAD|GET /{owner}/{repo}/resolve/main/{file}`: 302 to the CDN (another origin: a
  second port) with `X-Linked-Etag` (the LFS sha256), `X-Linked-Size`,
  `X-Repo-Commit`; an unknown repo: 401 + `X-Error-Code: RepoNotFound`; an unknown
  file: 404 + `X-Error-Code: EntryNotFound`.
* `GET /api/models/{owner}/{repo}?blobs=true`: siblings with their LFS sha256.
* `GET /cdn/{owner}/{repo}/{file}`: the bytes, honouring `Range`.

Misbehaviour on demand: `ranges_mode` (ignore a `Range`, answer another one, or
answer it with an error page), `fail_status`, `extra` (bytes past the file),
`cut_after` (send that many bytes of the next response,
then drop the connection), `fail_all` (every CDN request answers 503), `corrupt`
(serve bytes that do not match the sha256), `no_etag` (metadata only via the API).
Every CDN request is recorded with its `Range` header.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.support.threaded_server import on_own_loop

CHUNK = 1 << 20


@dataclass
class HubFile:
    data: bytes
    sha256: str = ""
    #: served from this file with sendfile instead (no misbehaviour then)
    path: Path | None = None

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path else len(self.data)


@dataclass
class ScriptedHub:
    files: dict[str, dict[str, HubFile]] = field(default_factory=dict)  # repo -> file -> bytes
    cut_after: int | None = None
    fail_all: bool = False
    corrupt: bool = False
    no_etag: bool = False
    #: the CDN's answer to a `Range`: "honour" it, "ignore" it (200, the whole file),
    #: "shift" it (206 from one byte later than asked) or "error" (200, an error page)
    ranges_mode: str = "honour"
    #: the status of every CDN answer while `fail_all`
    fail_status: int = 503
    #: bytes the CDN sends after the file (and counts in its Content-Length)
    extra: bytes = b""
    #: seconds the CDN waits before each piece (a slow line, to act mid-download)
    throttle: float = 0.0
    #: bytes the CDN sends at a time
    piece: int = CHUNK
    ranges: list[str | None] = field(default_factory=list)
    #: repo -> the token it needs (a gated repo): 401 GatedRepo without it
    gated: dict[str, str] = field(default_factory=dict)
    #: the Authorization header of every request: (where, header)
    auth_seen: list[tuple[str, str | None]] = field(default_factory=list)
    hub_url: str = ""
    cdn_url: str = ""
    _runners: list[web.AppRunner] = field(default_factory=list)

    def add(self, repo: str, file: str, data: bytes) -> HubFile:
        entry = HubFile(data)
        self.files.setdefault(repo, {})[file] = entry
        return entry

    def add_file(self, repo: str, file: str, path: Path) -> HubFile:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        entry = HubFile(b"", digest, path)
        self.files.setdefault(repo, {})[file] = entry
        return entry

    async def start(self) -> None:
        hub = web.Application()
        hub.router.add_route("*", "/api/models/{owner}/{repo}", self._api)
        hub.router.add_route("*", "/{owner}/{repo}/resolve/{rev}/{file:.+}", self._resolve)
        cdn = web.Application()
        cdn.router.add_get("/cdn/{owner}/{repo}/{file:.+}", self._cdn)
        for app in (hub, cdn):
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            self._runners.append(runner)
        self.hub_url = f"http://127.0.0.1:{self._runners[0].addresses[0][1]}"
        self.cdn_url = f"http://127.0.0.1:{self._runners[1].addresses[0][1]}"

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    def _lookup(self, request: web.Request) -> HubFile | web.Response:
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        where = "cdn" if request.path.startswith("/cdn/") else "hub"
        self.auth_seen.append((where, request.headers.get("Authorization")))
        token = self.gated.get(repo)
        if where == "hub" and token and request.headers.get("Authorization") != f"Bearer {token}":
            return web.Response(
                status=401,
                headers={"X-Error-Code": "GatedRepo", "X-Error-Message": "Access restricted"},
            )
        if repo not in self.files:
            return web.Response(
                status=401,
                headers={"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
            )
        found = self.files[repo].get(request.match_info["file"])
        if found is None:
            return web.Response(
                status=404,
                headers={"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found"},
            )
        return found

    async def _resolve(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        m = request.match_info
        headers = {
            "Location": f"{self.cdn_url}/cdn/{m['owner']}/{m['repo']}/{m['file']}",
            "X-Linked-Size": str(found.size),
            "X-Repo-Commit": "0" * 40,
            "ETag": '"deadbeef"',
        }
        if not self.no_etag:
            headers["X-Linked-Etag"] = f'"{found.sha256}"'
        return web.Response(status=302, headers=headers)

    async def _api(self, request: web.Request) -> web.Response:
        repo = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if repo not in self.files:
            return web.Response(status=401, headers={"X-Error-Code": "RepoNotFound"})
        siblings = [
            {"rfilename": name, "size": f.size, "blobId": "0" * 40,
             "lfs": {"sha256": f.sha256, "size": f.size, "pointerSize": 134}}
            for name, f in self.files[repo].items()
        ]  # fmt: skip
        return web.json_response({"id": repo, "_id": "x", "private": False, "siblings": siblings})

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        header = request.headers.get("Range")
        self.ranges.append(header)
        if self.fail_all:
            return web.Response(status=self.fail_status)
        if header and self.ranges_mode == "error":
            return web.Response(status=200, body=b"<html>try again later</html>")
        if found.path is not None:
            return web.FileResponse(found.path)  # Range and 206 by aiohttp, sendfile
        data = found.data + self.extra
        if self.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        if header and header.startswith("bytes=") and self.ranges_mode != "ignore":
            start = int(header[6:].split("-")[0]) + (self.ranges_mode == "shift")
        response = web.StreamResponse(status=206 if start else 200)
        response.content_length = len(data) - start
        response.headers["Accept-Ranges"] = "bytes"
        if start:
            response.headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        await response.prepare(request)
        end = len(data)
        cut, self.cut_after = self.cut_after, None
        if cut is not None:
            end = min(end, start + cut)
        view = memoryview(data)
        for i in range(start, end, self.piece):
            if self.throttle:
                await asyncio.sleep(self.throttle)
            await response.write(view[i : min(i + self.piece, end)])
        if cut is not None and end < len(data):
            assert request.transport is not None
            request.transport.close()  # the connection drops mid-body
            return response
        await response.write_eof()
        return response


@contextmanager
def running_hub(hub: ScriptedHub | None = None) -> Iterator[ScriptedHub]:
    """The hub on its own thread and loop."""
    with on_own_loop(hub or ScriptedHub(), "scripted hub") as running:
        yield running


@dataclass
class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 that records the URLs it carried."""

    seen: list[str] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        target = f"http://{request.headers['Host']}{request.rel_url}"
        self.seen.append(f"{request.method} {target}")
        skip = {"host", "proxy-connection", "connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        async with self._session.request(
            request.method, target, headers=headers, allow_redirects=False
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in ("transfer-encoding", "connection", "content-encoding"):
                    response.headers[key] = value
            await response.prepare(request)
            async for data in upstream.content.iter_chunked(1 << 20):
                await response.write(data)
            await response.write_eof()
            return response


@contextmanager
def running_proxy() -> Iterator[ForwardProxy]:
    with on_own_loop(ForwardProxy(), "forward proxy") as proxy:
        yield proxy


def main() -> None:
    """`python -m tests.support.hub_server REPO FILE PATH [--copy]`: serve one file
    from another process (for benchmarks: no GIL shared with the client), with
    `sendfile` from the
    page cache as a CDN's edge does, so the stand-in server's own copying takes as
    little as it can of the CPU the client runs on; prints the hub URL."""
    import sys

    repo, name, path = sys.argv[1:4]
    hub = ScriptedHub()
    if "--copy" in sys.argv[4:]:  # the bytes through Python, 1 MiB at a time
        hub.add(repo, name, Path(path).read_bytes())
    else:
        hub.add_file(repo, name, Path(path))

    async def serve() -> None:
        await hub.start()
        print(hub.hub_url, flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
