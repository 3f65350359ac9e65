"""The transcript's own links (approve, toggle, copy, versions, edit, retry).

They use a scheme made of a random token per transcript, `da-<hex>:action/key/arg`,
with every part percent-encoded: model text has no way to make one (its links are
web and mail only, see `markdown.allowed_link`) nor to guess one, and an id cannot
break out of its link. No Qt here: a link is a string.
"""

from __future__ import annotations

import html
import itertools
import os
from urllib.parse import quote, unquote

__all__ = ["APP_ACTIONS", "DECISIONS", "SAFE_SCHEMES", "AppLinks", "CopyTargets"]

#: The schemes a clicked link may have to be handed to the system browser.
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: What the app's own links do (the first part of their path).
APP_ACTIONS = frozenset({"approve", "copy", "edit", "retry", "toggle", "version", "view"})
#: The answers of an approval card (the engine's; not imported before the window shows).
DECISIONS = ("allow", "always", "deny")


class AppLinks:
    """Makes and reads the links of one transcript."""

    def __init__(self, scheme: str | None = None) -> None:
        #: Random unless given (tests): nothing else can make one of these links.
        self.scheme = (
            scheme or f"da-{os.urandom(12).hex()}"
        )  # (not `secrets`: it loads OpenSSL, ~4 ms at start)

    def make(self, action: str, key: str = "", arg: str = "") -> str:
        """The href of one of the app's own links (HTML-escape it in an attribute)."""
        parts = "/".join(quote(part, safe="") for part in (action, key, arg))
        return f"{self.scheme}:{parts}"

    def href(self, action: str, key: str = "", arg: str = "") -> str:
        """`make`, escaped for an HTML attribute."""
        return html.escape(self.make(action, key, arg))

    def parse(self, url: str) -> tuple[str, str, str] | None:
        """(action, key, arg) of one of these links, given fully encoded; None for any
        other URL (another scheme, another transcript's token, an unknown action)."""
        scheme, colon, parts = url.partition(":")
        if not colon or scheme != self.scheme:
            return None
        pieces = parts.split("/")
        if len(pieces) != 3 or pieces[0] not in APP_ACTIONS:
            return None
        action, key, arg = (unquote(piece) for piece in pieces)
        return action, key, arg


class CopyTargets:
    """The code blocks a transcript's Copy links stand for (a re-rendered block keeps
    its key, so a block streamed and then rendered whole is kept once)."""

    def __init__(self, links: AppLinks) -> None:
        self._links = links
        self._code: dict[str, str] = {}
        self._keys: dict[str, str] = {}  # code -> key
        self._ids = itertools.count()

    def link(self, code: str) -> str:
        """Keep a code block for its Copy link; the link's href."""
        key = self._keys.get(code)
        if key is None:
            key = self._keys[code] = f"c{next(self._ids)}"
            self._code[key] = code
        return self._links.make("copy", key)

    def get(self, key: str) -> str | None:
        return self._code.get(key)

    def clear(self) -> None:
        self._code.clear()
        self._keys.clear()
