"""Fetch a web page as text: http and https only, with size and time limits.

Uses the standard library (urllib in a worker thread): redirects are followed only
to http/https, at most `MAX_BYTES` are read, HTML becomes readable text (scripts,
styles and tags dropped), and anything that is not text is described, not dumped.
"""

from __future__ import annotations

import asyncio
import html
import re
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..engine import Tool, tool

__all__ = ["FetchError", "fetch_text", "fetch_tool"]

MAX_BYTES = 2 * 1024 * 1024
MAX_CHARS = 100_000
TIMEOUT_S = 15.0
USER_AGENT = "desktop-agent (+https://github.com/desktop-agent)"


class FetchError(ValueError):
    """The URL cannot be fetched (the message says why)."""


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if urlsplit(newurl).scheme not in ("http", "https"):
            fp.close()
            raise FetchError(f"refusing a redirect to {newurl!r}: only http and https")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


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


def _fetch(url: str, timeout: float, max_bytes: int) -> tuple[str, str, bytes, bool]:
    opener = urllib.request.build_opener(_SafeRedirects())
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            kind = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            data = response.read(max_bytes + 1)
            return kind, charset, data[:max_bytes], len(data) > max_bytes
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, FetchError):
            raise reason from None
        raise FetchError(f"could not connect: {reason}") from None
    except TimeoutError:
        raise FetchError(f"no answer within {timeout:g} s") from None


async def fetch_text(
    url: str, *, limit_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES, max_chars: int = MAX_CHARS
) -> str:
    """The page at `url` as text (see the module's doc for the limits)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError(f"only http and https URLs can be fetched, not {url!r}")
    kind, charset, data, cut = await asyncio.wait_for(
        asyncio.to_thread(_fetch, url, limit_s, max_bytes), limit_s + 1
    )
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
