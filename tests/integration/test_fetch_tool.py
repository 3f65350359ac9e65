"""fetch_url against a real HTTP server on 127.0.0.1: text, HTML, limits, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from desktop_agent.toolbox.web import FetchError, fetch_text, fetch_tool

PAGE = """<html><head><title>A &amp; B</title><style>p{color:red}</style>
<script>alert('no')</script></head><body><h1>Hello</h1><p>First <b>para</b>.</p>
<ul><li>one</li><li>two</li></ul></body></html>"""


@pytest.fixture
async def site() -> AsyncIterator[str]:
    async def page(_r: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def big(_r: web.Request) -> web.Response:
        return web.Response(text="x" * 5000, content_type="text/plain")

    async def binary(_r: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG" + b"\0" * 100, content_type="image/png")

    async def slow(_r: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text="late")

    async def to_file(_r: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    async def to_ftp(_r: web.Request) -> web.Response:
        raise web.HTTPFound("ftp://127.0.0.1/x")

    async def to_page(_r: web.Request) -> web.Response:
        raise web.HTTPFound("/page")

    async def missing(_r: web.Request) -> web.Response:
        raise web.HTTPNotFound()

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
    ]:
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
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
    with pytest.raises(FetchError, match=r"'file:///etc/passwd' is not allowed"):
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
