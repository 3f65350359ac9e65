"""Fetch a web page as text: http and https only, with size and time limits.

The request itself is `http_get.get` (standard library, in a daemon thread): one
deadline for the whole fetch, every hop's address checked, redirects only on the
approved host. At most `MAX_BYTES` are read, HTML becomes readable text (scripts,
styles and tags dropped), and anything that is not text is described, not dumped.
"""

from __future__ import annotations

import asyncio
import html
import re
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..engine import Tool, tool
from ..engine.tools import run_in_daemon_thread
from .http_get import FetchError, get

__all__ = ["FetchError", "fetch_text", "fetch_tool"]

MAX_BYTES = 2 * 1024 * 1024
MAX_CHARS = 100_000
TIMEOUT_S = 15.0


class _Text(HTMLParser):
    """HTML → text: block elements become line breaks; script/style are dropped."""

    BLOCKS: ClassVar[frozenset[str]] = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "blockquote",
            "table",
            "ul",
            "ol",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)

    def text(self) -> str:
        joined = "".join(self.parts)
        lines = [" ".join(line.split()) for line in joined.splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


async def fetch_text(
    url: str, *, limit_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES, max_chars: int = MAX_CHARS
) -> str:
    """The page at `url` as text (see the module's doc for the limits)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"only http and https URLs can be fetched, not {url!r}")
    try:
        page = await asyncio.wait_for(
            run_in_daemon_thread(get, "fetch_url", url, limit_s=limit_s, max_bytes=max_bytes),
            limit_s + 1,  # a backstop: the fetch ends itself at limit_s
        )
    except TimeoutError:
        raise FetchError(f"no answer within {limit_s:g} s") from None
    kind, charset, data, cut = page.content_type, page.charset, page.body, page.cut
    note = (
        f"\n\n[… the page is larger than {max_bytes:,} bytes: the rest was not read]" if cut else ""
    )
    if not (
        kind.startswith("text/")
        or kind in ("application/json", "application/xml", "application/xhtml+xml")
    ):
        return f"{url} is {kind} ({len(data):,} bytes{'+' if cut else ''}): not text, not shown"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml"):
        parser = _Text()
        parser.feed(text)
        title = " ".join(html.unescape(parser.title).split())
        text = (f"# {title}\n\n" if title else "") + parser.text()
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n\n[… cut at {max_chars:,} characters]"
    return text + note


def fetch_tool() -> Tool:
    @tool("Fetch a web page (http or https) and return its text", side_effects=True)
    async def fetch_url(url: str) -> str:
        """
        Args:
            url: the page's address, starting with http:// or https://.
        """
        return await fetch_text(url)

    return fetch_url
