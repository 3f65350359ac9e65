"""Model output -> safe HTML for QTextDocument: markdown-it-py + pygments.

Model output is never trusted: raw HTML is escaped (markdown-it's `html=False`),
only http, https and mailto links are links (any other target, relative ones
included, stays text: the app's own link schemes cannot be forged), a mail link
keeps only its subject, body and cc (an `attach=` some mail clients obey, a bcc, a
second `to` are dropped), images are
shown as a link text and never loaded, and code blocks get syntax highlighting
with inline styles (QTextDocument has no stylesheet classes) plus a "Copy" link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..colors import Colors

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["MarkdownRenderer", "StreamScan"]

#: A code fence's opening or closing line (a backtick fence's info has no backtick).
_FENCE = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_CR_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")
#: Code blocks longer than this are shown without colours (highlighting one costs
#: ~4 µs a character: more would stall the window when it arrives whole).
HIGHLIGHT_LIMIT = 10_000
#: A code block's text and header stand this far in from its panel's sides (px).
CODE_INSET = 12
#: The only link targets model Markdown may have.
#: (`knowledge:` is a project passage's citation, as `search_knowledge` gives it:
#: the transcript hands it to the window, which opens the indexed file, nothing else.)
LINK_SCHEMES = ("http:", "https:", "mailto:", "knowledge:")


#: What a model's mail link may fill in besides the address.
MAILTO_KEYS = frozenset({"subject", "body", "cc"})


def allowed_link(url: str) -> bool:
    """An http, https or mailto URL, or a passage's citation (what a model's link may
    point to)."""
    return url.strip().lower().startswith(LINK_SCHEMES)


def mail_fields_kept(url: str) -> str:
    """A mailto URL with only the `MAILTO_KEYS` fields of its query (and no fragment);
    any other URL as it is."""
    if not url.lower().startswith("mailto:"):
        return url
    address, has_query, query = url.partition("#")[0].partition("?")
    if not has_query:
        return address
    kept = [
        field
        for field in query.split("&")
        if unquote(field.partition("=")[0]).strip().lower() in MAILTO_KEYS
    ]
    return address + ("?" + "&".join(kept) if kept else "")


def _unbound(rule: Callable[..., str]) -> Callable[..., str]:
    def call(_renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return rule(tokens, idx, options, env)

    return call


@dataclass
class StreamScan:
    """Where the still-changing tail of streaming Markdown starts, found by
    scanning each whole line once (`feed` resumes where it stopped).

    `boundary`: everything before it is whole top-level blocks that further text
    cannot change, so they are rendered once: blocks ended by a blank line and
    followed by an unindented line, or a code fence opened on an unindented line
    and closed (the line after a closed fence starts a new block). `fence_at`:
    where the open code fence's opening line starts (-1 when none is open),
    `code_at` where its code starts, `top_fence` whether its opening line is
    unindented (so it is not inside a list item or a quote).
    """

    boundary: int = 0
    scanned: int = 0  # end of the last whole line scanned
    fence: str | None = None  # the open fence's marker
    fence_at: int = -1
    code_at: int = -1
    top_fence: bool = False
    prev_blank: bool = False
    #: The last top-level fence closed: (opening line, code, closing line, end).
    closed: tuple[int, int, int, int] | None = None

    def feed(self, text: str) -> int:
        """Scan the whole lines added since the last call; the boundary."""
        pos = self.scanned
        while (end := text.find("\n", pos)) >= 0:
            line = text[pos : end + 1]
            if "\r" in line:  # a lone CR ends a line too (as markdown-it reads it)
                for part in _CR_LINES.findall(line):
                    self._line(part, pos)
                    pos += len(part)
            else:
                self._line(line, pos)
                pos = end + 1
        self.scanned = pos
        return self.boundary

    def _line(self, line: str, pos: int) -> None:
        stripped = line.strip()
        m = _FENCE.match(line)
        if self.fence is None:
            if self.prev_blank and stripped and not line[0].isspace():
                self.boundary = pos
            if m:
                self.fence = m.group(1)
                self.fence_at = pos
                self.code_at = pos + len(line)
                self.top_fence = not line[0].isspace()
        elif (
            m
            and m.group(1)[0] == self.fence[0]
            and len(m.group(1)) >= len(self.fence)
            and not line[m.end() :].strip()
        ):
            if self.top_fence:
                self.boundary = pos + len(line)
                self.closed = (self.fence_at, self.code_at, pos, pos + len(line))
            self.fence = None
            self.fence_at = self.code_at = -1
        self.prev_blank = self.fence is None and not stripped


class MarkdownRenderer:
    """Renders Markdown to the HTML subset QTextDocument understands."""

    def __init__(
        self, colors: Colors, copy_link: Callable[[str], str], mono: str = "monospace"
    ) -> None:
        """`copy_link(code)` stores a code block and returns the href of its Copy link;
        `mono`: the family of the fixed font for code."""
        self.mono = html.escape(mono.replace("'", ""))
        from markdown_it import MarkdownIt
        from pygments.formatters import HtmlFormatter

        self.colors = colors
        self._copy_link = copy_link
        self._style = "monokai" if colors.dark else "default"
        self._formatter = HtmlFormatter(style=self._style, noclasses=True, nowrap=True)
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        md.validateLink = allowed_link  # type: ignore[method-assign]  # links, autolinks, images
        normalize = md.normalizeLink
        md.normalizeLink = lambda url: mail_fields_kept(normalize(url))  # type: ignore[method-assign]
        # markdown-it binds rules to its renderer, which arrives as the first argument.
        for name, rule in (
            ("fence", self._fence),
            ("code_block", self._fence),
            ("image", self._image),
            ("table_open", self._table_open),
        ):
            md.add_render_rule(name, _unbound(rule))
        self._md = md

    def render(self, text: str) -> str:
        """HTML for `text`. (With no whitespace after its last block: inserted, that
        would become a space at the end of the block.)"""
        rendered: str = self._md.render(text)
        return rendered.rstrip()

    # -- rules ------------------------------------------------------------------

    def code_head(self, lang: str, copy_href: str | None) -> str:
        """The line above a code block: its language, and its Copy link once it is whole."""
        c = self.colors
        label = html.escape(lang) if lang else "code"
        link = (
            f' &nbsp;·&nbsp; <a href="{html.escape(copy_href)}" '
            f'style="color:{c.link}; text-decoration:none;">Copy</a>'
            if copy_href is not None
            else " &nbsp;·&nbsp; …"
        )
        return (
            # (inset by spaces, not a margin: the first block of inserted HTML keeps
            # the format of the block it goes into, and a streamed head often is one)
            f'<p style="color:{c.muted}; font-size:small; margin-top:14px; margin-bottom:0; '
            f'line-height:100%;">&nbsp;&nbsp;&nbsp;{label}{link}</p>'
        )

    def _fence(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        code = token.content
        lang = (token.info or "").strip().split(" ")[0]
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        lexer = None
        if lang and len(code) <= HIGHLIGHT_LIMIT:
            try:
                lexer = get_lexer_by_name(lang)
            except ClassNotFound:
                pass
        body = (
            highlight(code, lexer, self._formatter) if lexer is not None else html.escape(code)
        ).rstrip("\n")
        return (
            self.code_head(lang, self._copy_link(code))
            + f'<pre style="{self.code_style}">{body}</pre>\n'
        )

    @property
    def code_style(self) -> str:
        """The style of a code block's text (a block of the code's background)."""
        return (
            f"font-family:'{self.mono}', monospace; margin-top:6px; margin-bottom:14px; "
            f"margin-left:{CODE_INSET}px; margin-right:{CODE_INSET}px;"
        )

    def _image(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = html.escape(token.content or "image")
        if src.lower().startswith(("http://", "https://")):
            # Shown as a link the user may choose to open; never loaded here.
            return f'[image: <a href="{html.escape(src)}">{alt}</a>]'
        return f"[image: {alt}]"

    def _table_open(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        border = self.colors.border
        return (
            f'<table border="1" cellspacing="0" cellpadding="6" '
            f'style="border-color:{border}; border-style:solid; margin-top:6px;">'
        )
