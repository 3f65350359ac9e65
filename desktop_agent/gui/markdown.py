"""Model output -> safe HTML for QTextDocument: markdown-it-py + pygments.

Model output is never trusted: raw HTML is escaped (markdown-it's `html=False`),
only http, https and mailto links are links (any other target, relative ones
included, stays text: the app's own link schemes cannot be forged), images are
shown as a link text and never loaded, and code blocks get syntax highlighting
with inline styles (QTextDocument has no stylesheet classes) plus a "Copy" link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.token import Token

__all__ = ["MarkdownRenderer", "split_stable"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
#: The only link targets model Markdown may have.
LINK_SCHEMES = ("http:", "https:", "mailto:")


def allowed_link(url: str) -> bool:
    """An http, https or mailto URL (what a model's link may point to)."""
    return url.strip().lower().startswith(LINK_SCHEMES)


def _unbound(rule: Callable[..., str]) -> Callable[..., str]:
    def call(_renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return rule(tokens, idx, options, env)

    return call


def split_stable(text: str, start: int = 0) -> int:
    """Where the still-changing tail of streaming Markdown starts.

    Everything before the returned index is whole top-level blocks (ended by a
    blank line, outside any code fence, followed by an unindented line) that
    further text cannot change, so they can be rendered once. `start` is an
    earlier result: scanning resumes there, so the cost is the new text only.
    """
    boundary = start
    fence: str | None = None
    pos = start
    prev_blank = False
    for line in text[start:].splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # the last, unfinished line belongs to the tail
        stripped = line.strip()
        m = _FENCE.match(line)
        if fence is None:
            if prev_blank and stripped and not line[0].isspace():
                boundary = pos
            if m:
                fence = m.group(1)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
            fence = None
        prev_blank = fence is None and not stripped
        pos += len(line)
    return boundary


@dataclass(frozen=True)
class Colors:
    text: str
    muted: str
    code_bg: str
    border: str
    link: str
    dark: bool


class MarkdownRenderer:
    """Renders Markdown to the HTML subset QTextDocument understands."""

    def __init__(self, colors: Colors, copy_link: Callable[[str], str]) -> None:
        """`copy_link(code)` stores a code block and returns the href of its Copy link."""
        from markdown_it import MarkdownIt
        from pygments.formatters import HtmlFormatter

        self.colors = colors
        self._copy_link = copy_link
        self._style = "monokai" if colors.dark else "default"
        self._formatter = HtmlFormatter(style=self._style, noclasses=True, nowrap=True)
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable(["table", "strikethrough"])
        md.validateLink = allowed_link  # type: ignore[method-assign]  # links, autolinks, images
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
        rendered: str = self._md.render(text)
        return rendered

    # -- rules ------------------------------------------------------------------

    def _fence(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        code = token.content
        lang = (token.info or "").strip().split(" ")[0]
        href = html.escape(self._copy_link(code))
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        try:
            lexer = get_lexer_by_name(lang) if lang else None
        except ClassNotFound:
            lexer = None
        body = (
            highlight(code, lexer, self._formatter) if lexer is not None else html.escape(code)
        ).rstrip("\n")
        c = self.colors
        label = html.escape(lang) if lang else "code"
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" '
            f'style="background-color:{c.code_bg}; border: 1px solid {c.border}; '
            f'margin-top:4px; margin-bottom:4px;">'
            f'<tr><td style="color:{c.muted}; font-size:small;">{label} · '
            f'<a href="{href}" style="color:{c.link};">Copy</a></td></tr>'
            f'<tr><td><pre style="font-family:monospace; margin:0;">{body}</pre></td></tr>'
            "</table>\n"
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
        return f'<table border="1" cellspacing="0" cellpadding="4" style="border-color:{border};">'
