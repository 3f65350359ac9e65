"""An assistant message's body in the document: while it streams, and once whole.

Streaming cost stays flat however long the conversation is: only the streaming
message's blocks change, and of those only the unfinished tail is re-rendered
(finished top-level blocks are rendered once, see `StreamScan`), and a code block
still being written grows by its new lines as plain text, in colour once it
closes (see `_stream_code`): the cost is linear in the answer. At the end, what
streamed stands and only its tail is rendered (no whole-message re-render, no
stall), unless the message has something that changes earlier blocks.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtGui import QTextBlockFormat, QTextCharFormat

from ..colors import Theme
from .document import EntryDocument
from .entries import Entry
from .markdown import CODE_INSET, HIGHLIGHT_LIMIT, MarkdownRenderer, StreamScan

__all__ = ["StreamingBody"]

#: A Markdown link reference definition ("[1]: https://..."): it can change how
#: earlier blocks render, so a message that has one is re-rendered whole at the end.
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:", re.MULTILINE)


@dataclass
class StreamingCode:
    """A top-level code block still being written, shown line by line as plain text."""

    fence_at: int  # where its opening line starts in the message
    code_at: int  # where its code starts
    lang: str
    head_at: int  # document offset of its header line (from the entry's body: the
    # entry's header above may change size meanwhile: reasoning opened)
    shown: int = 0  # characters of code shown (whole lines, last newline excluded)


@dataclass
class _Tail:
    """How much of a streaming message is shown as final."""

    stable_len: int = 0  # chars of the source rendered as finished blocks
    stable_doc_len: int = 0  # document chars they take
    scan: StreamScan = field(default_factory=StreamScan)  # where the finished blocks end
    code: StreamingCode | None = None  # the code block being written, shown as it grows


class StreamingBody:
    """Renders the bodies of assistant entries (below their `header_len`)."""

    def __init__(self, doc: EntryDocument, theme: Theme, copy_link: Callable[[str], str]) -> None:
        """`copy_link(code)`: keeps a code block for its Copy link; the link's href."""
        self._doc = doc
        self._theme = theme
        self._copy_link = copy_link
        self._markdown: MarkdownRenderer | None = None
        #: The messages streaming now (an entry removed meanwhile leaves by itself).
        self._tails: weakref.WeakKeyDictionary[Entry, _Tail] = weakref.WeakKeyDictionary()

    def retheme(self, theme: Theme) -> None:
        """Use `theme`'s colours from now on."""
        self._theme = theme
        self._markdown = None

    @property
    def renderer(self) -> MarkdownRenderer:
        """The Markdown renderer, built on first use (markdown-it and pygments
        cost ~60 ms to import: not before the window is on screen)."""
        if self._markdown is None:
            self._markdown = MarkdownRenderer(
                self._theme.markdown_colors(), self._copy_link, _mono(self._theme)
            )
        return self._markdown

    def update(self, entry: Entry) -> None:
        """Show what `entry.source` has grown to; re-renders only its unfinished tail."""
        tail = self._tails.get(entry)
        if tail is None:
            tail = self._tails[entry] = _Tail()
        self._advance(entry, tail, entry.source)
        scan = tail.scan
        if scan.fence_at >= 0 and scan.top_fence:
            self._stream_code(entry, tail)
        else:
            tail.code = None
            unfinished = entry.source[tail.stable_len :]
            self._doc.replace(
                entry, entry.header_len + tail.stable_doc_len, self.renderer.render(unfinished)
            )

    def finish(self, entry: Entry, streamed: str, note_html: str) -> None:
        """Show `entry.source` whole, exactly, then `note_html`; `streamed`: the text
        shown until now."""
        content = entry.source
        tail = self._tails.pop(entry, None)
        render = self.renderer.render
        if not content:  # reasoning and tool calls only: no empty body line
            self._doc.replace(entry, entry.header_len - 1, note_html)
        elif tail is not None and streamed == content and self._stands(entry, tail, content):
            # What streamed is final: its finished blocks are already rendered, so
            # only the tail is (no whole-message re-render, no stall at the end).
            rest = render(content[tail.stable_len :]) + note_html
            if rest:
                self._doc.replace(entry, entry.header_len + tail.stable_doc_len, rest)
            else:  # all of it is rendered: no empty block after it
                self._doc.drop_last_block(entry)
        else:
            self._doc.replace(entry, entry.header_len, render(content) + note_html)

    def show_whole(self, entry: Entry, note_html: str) -> None:
        """Render a finished message's body again (new colours)."""
        if entry.source:
            body = self.renderer.render(entry.source) + note_html
            self._doc.replace(entry, entry.header_len, body)

    def _stands(self, entry: Entry, tail: _Tail, content: str) -> bool:
        """Whether the streamed rendering stands, with only its tail left to render."""
        if _REFERENCE_DEF.search(content):
            return False
        # The last line needs no newline to close a code block.
        self._advance(entry, tail, content if content.endswith("\n") else content + "\n")
        return tail.stable_len > 0

    def _advance(self, entry: Entry, tail: _Tail, source: str) -> None:
        """Render the blocks of `source` that are now finished, once."""
        scan = tail.scan
        boundary = scan.feed(source)
        code = tail.code
        if code is not None and scan.closed is not None and scan.closed[0] == code.fence_at:
            tail.code = None
            _opening, code_at, close_at, close_end = scan.closed
            text = source[code_at:close_at]
            if len(text) > HIGHLIGHT_LIMIT:  # shown as it will stay (plain): keep it
                self._show_code(entry, code, text)
                head_at = entry.header_len + code.head_at
                head = self._doc.block_at(entry.pos + head_at)
                final_head = self.renderer.code_head(code.lang, self._copy_link(text))
                self._doc.replace_range(entry, head_at, head.length() - 1, final_head)
                self._mark_stable(entry, tail, close_end)
        if boundary > tail.stable_len:
            block = self.renderer.render(source[tail.stable_len : boundary])
            if block:
                self._doc.replace(entry, entry.header_len + tail.stable_doc_len, block)
                self._mark_stable(entry, tail, boundary)
            else:  # blank lines only: nothing to show, no block to start
                tail.stable_len = boundary

    def _mark_stable(self, entry: Entry, tail: _Tail, boundary: int) -> None:
        """What the entry shows is final up to `boundary` of its source."""
        # The tail starts in a new block after them (measured from the entry's end,
        # not the cursor, which a table leaves inside its last cell).
        first, end = self._doc.bounds(entry)
        self._doc.insert_block(entry, end)
        tail.stable_doc_len = end + 1 - first - entry.header_len
        tail.stable_len = boundary

    def _stream_code(self, entry: Entry, tail: _Tail) -> None:
        """Show the open code block's new whole lines, as plain text: no re-rendering
        of what is shown, so a long block costs time in proportion to its length."""
        scan = tail.scan
        code = tail.code
        if code is None or code.fence_at != scan.fence_at:
            source = entry.source
            prefix = source[tail.stable_len : scan.fence_at]
            info = source[scan.fence_at : scan.code_at].strip().lstrip("`~").split()
            lang = info[0] if info else ""
            renderer = self.renderer
            head = renderer.code_head(lang, None)
            self._doc.replace(
                entry, entry.header_len + tail.stable_doc_len, renderer.render(prefix) + head
            )
            first, end = self._doc.bounds(entry)
            head_at = self._doc.block_at(end).position() - first - entry.header_len
            code = tail.code = StreamingCode(scan.fence_at, scan.code_at, lang, head_at)
            self._doc.insert_block(
                entry, end, self._code_block_format(), _code_char_format(_mono(self._theme))
            )
        self._show_code(entry, code, entry.source[code.code_at : scan.scanned])

    def _show_code(self, entry: Entry, code: StreamingCode, text: str) -> None:
        shown = text.rstrip("\n")  # as a finished block shows it
        if len(shown) > code.shown:
            self._doc.append_text(entry, shown[code.shown :], _code_char_format(_mono(self._theme)))
            code.shown = len(shown)

    def _code_block_format(self) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        fmt.setLeftMargin(CODE_INSET)  # (its panel is painted behind it: see `decor`)
        fmt.setRightMargin(CODE_INSET)
        fmt.setNonBreakableLines(True)
        return fmt


def _mono(theme: Theme) -> str:
    """The fixed font's family (the transcript's theme has the system's)."""
    return str(getattr(theme, "mono", "monospace"))


def _code_char_format(family: str = "monospace") -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setFontFamilies([family, "monospace"])
    fmt.setFontFixedPitch(True)
    return fmt
