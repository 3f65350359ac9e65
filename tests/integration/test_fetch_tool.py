"""fetch_url against a real HTTP server on 127.0.0.1: text, HTML, limits, refusals,
redirects that leave the approved host, servers that never finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from desktop_agent.tools.fetch import FetchError, fetch_text, fetch_tool
from desktop_agent.tools.http_get import address_refusal, get, redirect_refusal, resolve

PAGE = """<html><head><title>A &amp; B</title><style>p{color:red}</style>
<script>alert('no')</script></head><body><h1>Hello</h1><p>First <b>para</b>.</p>
<ul><li>one</li><li>two</li></ul></body></html>"""


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def other_site() -> AsyncIterator[str]:
    """Another server on loopback (another port): where redirects must not lead."""

    async def secret(_r: web.Request) -> web.Response:
        return web.Response(text="internal secret", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/secret", secret)
    runner, url = await _serve(app)
    yield url
    await runner.cleanup()


@pytest.fixture
async def site(other_site: str) -> AsyncIterator[str]:
    released = asyncio.Event()  # set at teardown: the slow handlers then end at once

    async def page(_r: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def big(_r: web.Request) -> web.Response:
        return web.Response(text="x" * 5000, content_type="text/plain")

    async def binary(_r: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG" + b"\0" * 100, content_type="image/png")

    async def slow(_r: web.Request) -> web.Response:
        await released.wait()  # answers only after the client has given up
        return web.Response(text="late")

    async def to_file(_r: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    async def to_ftp(_r: web.Request) -> web.Response:
        raise web.HTTPFound("ftp://127.0.0.1/x")

    async def to_page(_r: web.Request) -> web.Response:
        raise web.HTTPFound("/page")

    async def missing(_r: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def to_other_port(_r: web.Request) -> web.Response:
        raise web.HTTPFound(f"{other_site}/secret")

    async def to_link_local(_r: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def to_localhost(r: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://localhost:{r.url.port}/page")

    async def dribble(r: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(r)
        try:
            while not released.is_set():  # a byte every 0.1 s, until teardown
                await response.write(b"x")
                await asyncio.sleep(0.1)
        except ConnectionError:  # the client gave up
            pass
        return response

    app = web.Application()
    for path, handler in [
        ("/page", page),
        ("/big", big),
        ("/binary", binary),
        ("/slow", slow),
        ("/to-file", to_file),
        ("/to-ftp", to_ftp),
        ("/to-page", to_page),
        ("/missing", missing),
        ("/to-other-port", to_other_port),
        ("/to-link-local", to_link_local),
        ("/to-localhost", to_localhost),
        ("/dribble", dribble),
    ]:
        app.router.add_get(path, handler)
    runner, url = await _serve(app)
    yield url
    released.set()
    await runner.shutdown()
    await runner.cleanup()


async def test_html_becomes_text(site: str) -> None:
    text = await fetch_text(f"{site}/page")
    assert text == "# A & B\n\nHello\n\nFirst para.\n\none\n\ntwo"
    assert await fetch_text(f"{site}/to-page") == text  # http redirects are followed


async def test_limits_and_refusals(site: str) -> None:
    assert (await fetch_text(f"{site}/big", max_bytes=100)).endswith(
        "[… the page is larger than 100 bytes: the rest was not read]"
    )
    assert (await fetch_text(f"{site}/big", max_chars=50)).startswith("x" * 50 + "\n\n[… cut at 50")
    assert "is image/png (104 bytes): not text, not shown" in await fetch_text(f"{site}/binary")
    with pytest.raises(FetchError, match=r"no answer within 0\.5 s"):
        await fetch_text(f"{site}/slow", limit_s=0.5)
    with pytest.raises(FetchError, match=r"refusing a redirect to 'file:///etc/passwd'"):
        await fetch_text(f"{site}/to-file")
    with pytest.raises(FetchError, match=r"refusing a redirect to 'ftp://127\.0\.0\.1/x'"):
        await fetch_text(f"{site}/to-ftp")
    with pytest.raises(FetchError, match="answered 404"):
        await fetch_text(f"{site}/missing")
    for url in ("file:///etc/passwd", "ftp://example.com/x", "javascript:alert(1)", "http://"):
        with pytest.raises(FetchError, match="only http and https"):
            await fetch_text(url)
    with pytest.raises(FetchError, match="could not connect"):
        await fetch_text("http://127.0.0.1:9/")


def test_it_is_a_tool_with_side_effects() -> None:
    tool = fetch_tool()
    assert tool.name == "fetch_url" and tool.side_effects


async def test_redirects_that_leave_the_approved_host_are_refused(
    site: str, other_site: str
) -> None:
    # The approved URL is on loopback: that very host and port, and nothing else.
    with pytest.raises(FetchError, match=rf"redirects to '{other_site}/secret'.*not followed"):
        await fetch_text(f"{site}/to-other-port")
    with pytest.raises(FetchError, match=r"redirects to 'http://169\.254\.169\.254/latest/"):
        await fetch_text(f"{site}/to-link-local")
    port = site.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match=rf"redirects to 'http://localhost:{port}/page'"):
        await fetch_text(f"{site}/to-localhost")  # a name that resolves to 127.0.0.1
    assert (await fetch_text(f"{site}/to-page")).startswith("# A & B")  # same host: followed


def test_each_hop_is_checked_by_address() -> None:
    assert redirect_refusal("https://example.com/a", "https://example.com/b") is None
    assert redirect_refusal("http://example.com/a", "https://example.com/b") is None  # upgrade
    assert "another host" in str(redirect_refusal("https://example.com/", "https://evil.test/"))
    assert "another host" in str(redirect_refusal("http://127.0.0.1:8000/", "http://127.0.0.1:9/"))
    # A public name that now resolves to a private address (DNS rebinding) is refused.
    for address in (
        "127.0.0.1",
        "10.0.0.5",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
    ):
        refusal = address_refusal("example.com", [address])
        assert refusal is not None and address in refusal, address
    assert address_refusal("example.com", ["93.184.216.34"]) is None
    # A local address only when the URL names it: the address itself, or localhost.
    assert address_refusal("127.0.0.1", ["127.0.0.1"]) is None
    assert address_refusal("::1", ["::1"]) is None
    assert address_refusal("10.0.0.5", ["10.0.0.5"]) is None
    assert address_refusal("localhost", ["::1", "127.0.0.1"]) is None
    assert address_refusal("localhost", ["10.0.0.5"]) is not None  # not a loopback address


async def test_local_addresses_only_when_the_url_shows_them(site: str) -> None:
    """The approval card shows the URL: a local or private address is reached only when
    the URL names it in a form the user can recognise (issue 12 review)."""
    port = int(site.rsplit(":", 1)[1])
    assert (await fetch_text(f"http://127.0.0.1:{port}/page")).startswith("# A & B")
    assert (await fetch_text(f"http://localhost:{port}/page")).startswith("# A & B")
    # numeric forms a resolver (and a browser) read as 127.0.0.1
    for host in (
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "127.000.000.001",
        "127.0.0.1.",
        "0x7f000001",
        "[::ffff:7f00:1]",
        "[::ffff:127.0.0.1]",
        "[0:0:0:0:0:0:0:1]",
    ):
        with pytest.raises(FetchError, match="not in a standard form"):
            await fetch_text(f"http://{host}:{port}/page")
    # a user name before the host: the host is what follows the @
    for url in (f"http://example.com@127.0.0.1:{port}/page", f"http://u:p@127.0.0.1:{port}/"):
        with pytest.raises(FetchError, match="user name"):
            await fetch_text(url)

    # a public-looking name whose DNS answer is a loopback address
    def lying(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host.endswith(".example") else resolve(host, port)

    for host in ("innocent.example", "localhost.example"):
        with pytest.raises(FetchError, match=r"resolves to 127\.0\.0\.1, a loopback address"):
            await asyncio.to_thread(
                get, f"http://{host}:{port}/page", limit_s=5, max_bytes=1000, resolver=lying
            )


def _fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("fetch_url")]


async def test_a_server_that_never_finishes_is_cut_at_the_limit(site: str) -> None:
    handlers: list[asyncio.Task[None]] = []

    async def headers_byte_by_byte(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.readuntil(b"\r\n\r\n")
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 200:
                if reader.at_eof():  # the client gave up
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
        except ConnectionError:
            pass
        finally:
            writer.close()

    raw = await asyncio.start_server(headers_byte_by_byte, "127.0.0.1", 0)
    port = raw.sockets[0].getsockname()[1]
    try:
        for url in (f"{site}/dribble", f"http://127.0.0.1:{port}/"):
            # Bytes keep coming (every 0.1 s), so only a total limit ends this.
            with pytest.raises(FetchError, match=r"no answer within 0\.5 s"):
                await fetch_text(url, limit_s=0.5)
    finally:
        raw.close()
        await asyncio.wait(handlers, timeout=30)
        await raw.wait_closed()
    for _ in range(100):  # the fetch's own thread ended too (a bound, not a timing)
        if not _fetch_threads():
            break
        await asyncio.sleep(0.05)
    assert not _fetch_threads()
