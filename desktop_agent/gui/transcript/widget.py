"""The transcript: one flat QTextDocument; each entry is a run of blocks.

Streaming cost stays flat however long the conversation is: only the streaming
message's blocks change, and of those only the unfinished tail is re-rendered
(finished top-level blocks are rendered once, see `StreamScan`), and a code block
still being written grows by its new lines as plain text, in colour once it
closes (see `_stream_code`): the cost is linear in the answer. Entries are
plain blocks, not QTextFrames: with a frame per entry every edit costs time in
proportion to the number of frames (measured: 5 ms per edit at 6,700 entries).
Each entry knows the position where it starts; every edit goes through this
class, which shifts the positions of the entries after an edited one (none when
the edited entry is the last, the streaming case). Not QTextCursors: Qt adjusts
every live cursor on every insertion, which costs time per entry again. Boxes
(user, tool, error) are block backgrounds.

Model output is never trusted: Markdown is rendered with raw HTML escaped, no
resource is ever loaded (`loadResource` refuses everything), and links open in
the system browser only when clicked, and only for http, https and mailto.
The app's own links (approve, toggle, copy, versions, edit, retry) use a scheme
made of a random token per transcript, `da-<hex>:action/key/arg`, with every
part percent-encoded: model text has no way to make one (its links are web and
mail only) nor to guess one, and an id cannot break out of its link. Hovering a
link reports its real target (`link_hovered`), so its text cannot disguise it.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QGuiApplication,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from ..theme import Theme
from .entries import DECISIONS, RESULT_PREVIEW_CHARS, ToolEntries
from .markdown import HIGHLIGHT_LIMIT, StreamScan

if TYPE_CHECKING:
    from .markdown import MarkdownRenderer

__all__ = ["RESULT_PREVIEW_CHARS", "Entry", "Transcript"]

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: What the app's own links do (the first part of their path).
APP_ACTIONS = frozenset({"approve", "copy", "edit", "retry", "toggle", "version"})
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


@dataclass(eq=False)
class Entry:
    """One thing shown in the transcript."""

    kind: str  # "user" | "assistant" | "tool" | "error" | "notice"
    key: str
    pos: int  # document position of the entry's first character
    source: str = ""
    label: str = ""
    # assistant
    reasoning: str = ""
    reasoning_open: bool = False
    streaming: bool = False
    finish_reason: str | None = None
    header_len: int = 0  # document chars of the header region
    stable_len: int = 0  # chars of `source` rendered as finished blocks
    stable_doc_len: int = 0  # document chars they take
    scan: StreamScan | None = None  # where the streaming text's finished blocks end
    code: StreamingCode | None = None  # the code block being written, shown as it grows
    # tool
    tool_name: str = ""
    arguments: Any = None
    result: str | None = None
    error: str | None = None
    duration_ms: float | None = None
    expanded: bool = False
    show_full: bool = False
    running: bool = False
    # error
    retry: bool = False
    # user / assistant: (1-based index, count) when the message has other versions
    versions: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Transcript(ToolEntries, QTextBrowser):
    """Shows the conversation; emits what the user asks for through its links."""

    retry_requested = Signal()  # the user clicked Retry on an error entry
    version_requested = Signal(str, int)  # entry key (message id), step: -1 (◀) or +1 (▶)
    edit_requested = Signal(str)  # entry key of a user message to edit
    approval_answered = Signal(str, str)  # call_id, decision ("allow" | "always" | "deny")
    copied = Signal(str)  # what was copied to the clipboard (code block)
    link_opened = Signal(str)  # an external URL handed to the system browser
    link_refused = Signal(str)  # a URL that was clicked but is not allowed
    link_hovered = Signal(str)  # the real target of the link under the mouse; "" when none

    def __init__(self, parent: QWidget | None = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Conversation transcript")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(12)
        self.anchorClicked.connect(self._on_anchor)
        self.highlighted.connect(self._on_hover)
        #: The scheme of this transcript's own links: random, so nothing else can make one.
        self.app_scheme = f"da-{secrets.token_hex(12)}"
        self.theme = theme or Theme.from_palette()
        self._code: dict[str, str] = {}
        self._code_keys: dict[str, str] = {}  # code -> key (a re-rendered block keeps its key)
        self._code_ids = itertools.count()
        self._markdown: MarkdownRenderer | None = None
        self.entries: list[Entry] = []
        self._by_key: dict[str, Entry] = {}
        self._insert_at: int | None = None  # see inserting_at_top
        self._keys = itertools.count()
        self.document().setDefaultStyleSheet(
            f"a {{ color: {self.theme.link}; }} "
            f"code {{ font-family: monospace; background-color: {self.theme.code_bg}; }} "
            "h1 { font-size: x-large; } h2 { font-size: large; } "
        )
        #: Refused resource requests, for tests and the curious.
        self.refused_resources: list[str] = []

    # -- safety -------------------------------------------------------------------

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        """Nothing in the transcript is ever loaded: not files, not the network."""
        self.refused_resources.append(url.toString() if isinstance(url, QUrl) else str(url))
        return None

    def app_link(self, action: str, key: str = "", arg: str = "") -> str:
        """The href of one of the app's own links (HTML-escape it in an attribute)."""
        parts = "/".join(quote(part, safe="") for part in (action, key, arg))
        return f"{self.app_scheme}:{parts}"

    def _app_action(self, url: QUrl) -> tuple[str, str, str] | None:
        """(action, key, arg) of one of this transcript's own links; None for any other URL."""
        if url.scheme() != self.app_scheme:
            return None
        parts = url.toString(QUrl.ComponentFormattingOption.FullyEncoded).split(":", 1)[1]
        pieces = parts.split("/")
        if len(pieces) != 3 or pieces[0] not in APP_ACTIONS:
            return None
        action, key, arg = (unquote(piece) for piece in pieces)
        return action, key, arg

    def _on_anchor(self, url: QUrl) -> None:
        app = self._app_action(url)
        if app is not None:
            self._on_app_link(*app)
        elif url.scheme().lower() in SAFE_SCHEMES:
            QDesktopServices.openUrl(url)
            self.link_opened.emit(url.toString())
        else:
            self.link_refused.emit(url.toString())

    def _on_app_link(self, action: str, key: str, arg: str) -> None:
        if action == "copy":
            code = self._code.get(key)
            if code is not None:
                QGuiApplication.clipboard().setText(code)
                self.copied.emit(code)
        elif action == "toggle":
            entry = self._by_key.get(key)
            if entry is not None:
                self._toggle(entry, arg)
        elif action == "retry":
            self.retry_requested.emit()
        elif action == "edit":
            self.edit_requested.emit(key)
        elif action == "approve" and arg in DECISIONS:
            self.approval_answered.emit(key, arg)
        elif action == "version" and arg in ("prev", "next"):
            self.version_requested.emit(key, -1 if arg == "prev" else 1)

    def _on_hover(self, url: QUrl) -> None:
        """Say where a link really goes (its text may say otherwise); nothing for the
        app's own links and "" when the mouse leaves a link."""
        if url.isEmpty() or self._app_action(url) is not None:
            self.link_hovered.emit("")
        else:
            self.link_hovered.emit(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))

    @property
    def _renderer(self) -> MarkdownRenderer:
        """The Markdown renderer, built on first use (markdown-it and pygments
        cost ~60 ms to import: not before the window is on screen)."""
        if self._markdown is None:
            from .markdown import MarkdownRenderer

            self._markdown = MarkdownRenderer(self.theme.markdown_colors(), self._copy_link)
        return self._markdown

    def prepare(self) -> None:
        """Build the Markdown renderer now (after start-up) rather than on the first answer."""
        self._renderer.render("*warm* `up`")

    def _copy_link(self, code: str) -> str:
        """Keep a code block for its Copy link; the link's href."""
        key = self._code_keys.get(code)
        if key is None:
            key = self._code_keys[code] = f"c{next(self._code_ids)}"
            self._code[key] = code
        return self.app_link("copy", key)

    def _href(self, action: str, key: str = "", arg: str = "") -> str:
        """`app_link`, escaped for an HTML attribute."""
        return html.escape(self.app_link(action, key, arg))

    # -- blocks -------------------------------------------------------------------

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def _follow(self, was_at_bottom: bool) -> None:
        if was_at_bottom:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _add(self, kind: str, key: str | None = None, **fields: Any) -> Entry:
        key = key or f"e{next(self._keys)}"
        if self._insert_at is not None and self._insert_at < len(self.entries):
            return self._add_before(self._insert_at, kind, key, **fields)
        cursor = QTextCursor(self.document())
        if self.entries:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        entry = Entry(kind=kind, key=key, pos=cursor.position(), **fields)
        self.entries.append(entry)
        self._by_key[key] = entry
        if self._insert_at is not None:
            self._insert_at += 1
        return entry

    def _add_before(self, index: int, kind: str, key: str, **fields: Any) -> Entry:
        """A new entry in front of `entries[index]` (older messages, loaded later)."""
        following = self.entries[index]
        cursor = QTextCursor(self.document())
        cursor.setPosition(following.pos)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        entry = Entry(kind=kind, key=key, pos=following.pos, **fields)
        for later in self.entries[index:]:
            later.pos += 1
        self.entries.insert(index, entry)
        self._by_key[key] = entry
        self._style(following, following.pos)  # its first block lost its look to the split
        self._insert_at = index + 1
        return entry

    @contextlib.contextmanager
    def inserting_at_top(self) -> Iterator[None]:
        """Entries added inside the block go before everything shown, in order (a
        page of older messages); the view stays on what the user was reading."""
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        self._insert_at = 0
        try:
            yield
        finally:
            self._insert_at = None
            bar.setValue(bar.maximum() - from_bottom)

    def _followers(self, entry: Entry) -> list[Entry]:
        if self.entries[-1] is entry:
            return []
        return self.entries[self.entries.index(entry) + 1 :]

    def _bounds(self, entry: Entry) -> tuple[int, int]:
        """(first position, end position) of the entry's text, its last separator excluded."""
        if self.entries[-1] is entry:
            return entry.pos, self.document().characterCount() - 1
        following = self.entries[self.entries.index(entry) + 1]
        return entry.pos, following.pos - 1

    def _shift_after(self, entry: Entry, size_before: int) -> None:
        """Move the entries after `entry` by what an edit inside it added or removed."""
        delta = self.document().characterCount() - size_before
        if delta:
            for later in self._followers(entry):
                later.pos += delta

    def _insert_block(self, entry: Entry, position: int) -> None:
        size = self.document().characterCount()
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        self._shift_after(entry, size)

    def _replace(self, entry: Entry, start: int, html_text: str) -> int:
        """Replace the entry's text from offset `start` to its end; new length."""
        first, end = self._bounds(entry)
        return self._replace_range(entry, start, end - first - start, html_text)

    def _replace_range(self, entry: Entry, start: int, length: int, html_text: str) -> int:
        first = entry.pos
        size = self.document().characterCount()
        cursor = QTextCursor(self.document())
        cursor.setPosition(first + start)
        cursor.setPosition(first + start + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        # Removing a range merges its first and last blocks, and the survivor keeps
        # the last one's format (a list item, a heading): start from a plain block.
        current_list = cursor.currentList()
        if current_list is not None:
            current_list.remove(cursor.block())
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.setCharFormat(QTextCharFormat())
        if html_text:
            cursor.insertHtml(html_text)
        inserted = cursor.position() - first - start
        self._shift_after(entry, size)
        self._style(entry, first + start)
        return inserted

    def _style(self, entry: Entry, from_position: int) -> None:
        """Give the entry's blocks from `from_position` on their look."""
        t = self.theme
        background = {
            "user": t.user_bg,
            "tool": t.tool_bg,
            "error": t.error_bg,
            "approval": t.approval_bg,
        }.get(entry.kind)
        first, end = self._bounds(entry)
        doc = self.document()
        block = doc.findBlock(from_position)
        while block.isValid() and block.position() <= end:
            fmt = QTextBlockFormat()
            if background is not None:
                fmt.setBackground(QColor(background))
            if block.position() == first:
                fmt.setTopMargin(3 if entry.kind == "tool" else 12)
            if background is not None or block.position() == first:
                QTextCursor(block).mergeBlockFormat(fmt)
            block = block.next()

    def _label(self, text: str, extra: str = "", entry: Entry | None = None) -> str:
        t = self.theme
        links = ""
        if entry is not None and entry.versions is not None:
            index, count = entry.versions
            prev = (
                f'<a href="{self._href("version", entry.key, "prev")}" '
                'style="text-decoration:none;">◀</a>'
                if index > 1
                else f'<span style="color:{t.muted};">◀</span>'
            )
            nxt = (
                f'<a href="{self._href("version", entry.key, "next")}" '
                'style="text-decoration:none;">▶</a>'
                if index < count
                else f'<span style="color:{t.muted};">▶</span>'
            )
            links += f' &nbsp; {prev} <span style="color:{t.muted};">{index}/{count}</span> {nxt}'
        if entry is not None and entry.kind == "user" and entry.extra.get("editable"):
            links += (
                f' &nbsp; <a href="{self._href("edit", entry.key)}" '
                f'style="color:{t.muted}; text-decoration:none;">edit</a>'
            )
        return (
            f'<p style="margin:0;"><b>{html.escape(text)}</b>'
            f'<span style="color:{t.muted};">{extra}</span>{links}</p>'
        )

    # -- entries ------------------------------------------------------------------

    def add_user(
        self, text: str, key: str | None = None, versions: tuple[int, int] | None = None
    ) -> Entry:
        at_bottom = self._at_bottom()
        entry = self._add("user", key=key, source=text, label="You", versions=versions)
        entry.extra["editable"] = key is not None
        self._render_user(entry)
        self._follow(at_bottom)
        return entry

    def _render_user(self, entry: Entry) -> None:
        body = html.escape(entry.source).replace("\n", "<br>")
        self._replace(
            entry, 0, self._label("You", entry=entry) + f'<p style="margin:0;">{body}</p>'
        )

    def set_versions(self, key: str, versions: tuple[int, int] | None) -> None:
        """Show (or hide) the ◀ n/m ▶ of a message."""
        entry = self._by_key.get(key)
        if entry is None or entry.versions == versions:
            return
        entry.versions = versions
        if entry.kind == "user":
            self._render_user(entry)
        elif entry.kind == "assistant":
            self._render_header(entry)

    def add_notice(self, text: str) -> Entry:
        at_bottom = self._at_bottom()
        entry = self._add("notice", source=text)
        self._replace(entry, 0, f'<p style="color:{self.theme.muted};">{html.escape(text)}</p>')
        self._follow(at_bottom)
        return entry

    def begin_assistant(self, message_id: str, label: str = "Assistant") -> Entry:
        existing = self._by_key.get(message_id)
        if existing is not None:
            return existing
        at_bottom = self._at_bottom()
        entry = self._add("assistant", key=message_id, label=label, streaming=True)
        self._render_header(entry)
        self._insert_block(entry, entry.pos + entry.header_len)
        entry.header_len += 1
        self._follow(at_bottom)
        return entry

    def _render_header(self, entry: Entry) -> None:
        t = self.theme
        parts = [self._label(entry.label, entry=entry)]
        if entry.reasoning:
            arrow = "▾" if entry.reasoning_open else "▸"
            state = "Thinking…" if entry.streaming and not entry.source else "Reasoning"
            parts.append(
                f'<p style="margin:0;"><a href="{self._href("toggle", entry.key, "reasoning")}" '
                f'style="color:{t.muted}; text-decoration:none;">{arrow} {state} '
                f"({len(entry.reasoning):,} chars)</a></p>"
            )
            if entry.reasoning_open:
                text = html.escape(entry.reasoning).replace("\n", "<br>")
                parts.append(f'<p style="margin:0; color:{t.muted};"><i>{text}</i></p>')
        old = entry.header_len - 1 if entry.header_len else 0
        new_len = self._replace_range(entry, 0, old, "".join(parts))
        entry.header_len = new_len + (1 if entry.header_len else 0)

    def append_reasoning(self, message_id: str, text: str) -> None:
        entry = self._by_key.get(message_id) or self.begin_assistant(message_id)
        at_bottom = self._at_bottom()
        entry.reasoning += text
        self._render_header(entry)
        self._follow(at_bottom)

    def append_chunk(self, message_id: str, text: str) -> None:
        """Add streamed text to a message; re-renders only its unfinished tail."""
        entry = self._by_key.get(message_id) or self.begin_assistant(message_id)
        at_bottom = self._at_bottom()
        if not entry.source and entry.reasoning:
            entry.source = text
            self._render_header(entry)  # "Thinking…" becomes "Reasoning"
        else:
            entry.source += text
        self._advance(entry, entry.source)
        scan = entry.scan
        assert scan is not None
        if scan.fence_at >= 0 and scan.top_fence:
            self._stream_code(entry, scan)
        else:
            entry.code = None
            tail = entry.source[entry.stable_len :]
            self._replace(
                entry, entry.header_len + entry.stable_doc_len, self._renderer.render(tail)
            )
        self._follow(at_bottom)

    def _advance(self, entry: Entry, source: str) -> None:
        """Render the blocks of `source` that are now finished, once."""
        scan = entry.scan = entry.scan or StreamScan()
        boundary = scan.feed(source)
        code = entry.code
        if code is not None and scan.closed is not None and scan.closed[0] == code.fence_at:
            entry.code = None
            _opening, code_at, close_at, close_end = scan.closed
            text = source[code_at:close_at]
            if len(text) > HIGHLIGHT_LIMIT:  # shown as it will stay (plain): keep it
                self._show_code(entry, code, text)
                head_at = entry.header_len + code.head_at
                head = self.document().findBlock(entry.pos + head_at)
                final_head = self._renderer.code_head(code.lang, self._copy_link(text))
                self._replace_range(entry, head_at, head.length() - 1, final_head)
                self._mark_stable(entry, close_end)
        if boundary > entry.stable_len:
            block = self._renderer.render(source[entry.stable_len : boundary])
            if block:
                self._replace(entry, entry.header_len + entry.stable_doc_len, block)
                self._mark_stable(entry, boundary)
            else:  # blank lines only: nothing to show, no block to start
                entry.stable_len = boundary

    def _mark_stable(self, entry: Entry, boundary: int) -> None:
        """What the entry shows is final up to `boundary` of its source."""
        # The tail starts in a new block after them (measured from the entry's end,
        # not the cursor, which a table leaves inside its last cell).
        first, end = self._bounds(entry)
        self._insert_block(entry, end)
        entry.stable_doc_len = end + 1 - first - entry.header_len
        entry.stable_len = boundary

    def _stream_code(self, entry: Entry, scan: StreamScan) -> None:
        """Show the open code block's new whole lines, as plain text: no re-rendering
        of what is shown, so a long block costs time in proportion to its length."""
        code = entry.code
        if code is None or code.fence_at != scan.fence_at:
            prefix = entry.source[entry.stable_len : scan.fence_at]
            info = entry.source[scan.fence_at : scan.code_at].strip().lstrip("`~").split()
            lang = info[0] if info else ""
            head = self._renderer.code_head(lang, None)
            self._replace(
                entry, entry.header_len + entry.stable_doc_len, self._renderer.render(prefix) + head
            )
            first, end = self._bounds(entry)
            head_at = self.document().findBlock(end).position() - first - entry.header_len
            code = entry.code = StreamingCode(scan.fence_at, scan.code_at, lang, head_at)
            size = self.document().characterCount()
            cursor = QTextCursor(self.document())
            cursor.setPosition(end)
            cursor.insertBlock(self._code_block_format(), self._code_char_format())
            self._shift_after(entry, size)
        self._show_code(entry, code, entry.source[code.code_at : scan.scanned])

    def _show_code(self, entry: Entry, code: StreamingCode, text: str) -> None:
        shown = text.rstrip("\n")  # as a finished block shows it
        if len(shown) > code.shown:
            size = self.document().characterCount()
            cursor = QTextCursor(self.document())
            cursor.setPosition(self._bounds(entry)[1])
            cursor.insertText(shown[code.shown :], self._code_char_format())
            self._shift_after(entry, size)
            code.shown = len(shown)

    def _code_block_format(self) -> QTextBlockFormat:
        fmt = QTextBlockFormat()
        fmt.setBackground(QColor(self.theme.code_bg))
        fmt.setNonBreakableLines(True)
        return fmt

    def _code_char_format(self) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setFontFamilies(["monospace"])
        fmt.setFontFixedPitch(True)
        return fmt

    def complete_assistant(self, message_id: str, content: str, finish_reason: str | None) -> Entry:
        """Render the whole message once, exactly; note an early stop."""
        entry = self._by_key.get(message_id) or self.begin_assistant(message_id)
        at_bottom = self._at_bottom()
        streamed = entry.source
        entry.source = content
        entry.streaming = False
        entry.finish_reason = finish_reason
        self._render_header(entry)
        note = ""
        if finish_reason == "cancelled":
            note = "stopped"
        elif finish_reason == "error":
            note = "interrupted"
        elif finish_reason == "interrupted":
            note = "interrupted: the app closed while this answer was being written"
        elif finish_reason == "length":
            note = "cut short: the answer reached the length limit"
        note_html = f'<p style="color:{self.theme.muted};"><i>({note})</i></p>' if note else ""
        if not content:  # reasoning and tool calls only: no empty body line
            self._replace(entry, entry.header_len - 1, note_html)
        elif streamed == content and self._finish_stream(entry, content):
            # What streamed is final: its finished blocks are already rendered, so
            # only the tail is (no whole-message re-render, no stall at the end).
            tail = self._renderer.render(content[entry.stable_len :]) + note_html
            if tail:
                self._replace(entry, entry.header_len + entry.stable_doc_len, tail)
            else:  # all of it is rendered: no empty block after it
                self._drop_last_block(entry)
        else:
            self._replace(entry, entry.header_len, self._renderer.render(content) + note_html)
        entry.stable_len = entry.stable_doc_len = 0
        entry.scan = entry.code = None
        self._follow(at_bottom)
        return entry

    def _drop_last_block(self, entry: Entry) -> None:
        """Remove the entry's empty last block (keeping the look of the one before)."""
        first, end = self._bounds(entry)
        block = self.document().findBlock(end)
        if block.length() > 1 or block.position() <= first:
            return
        previous = block.previous()
        fmt, char_fmt = previous.blockFormat(), previous.charFormat()
        size = self.document().characterCount()
        cursor = QTextCursor(self.document())
        cursor.setPosition(end - 1)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(fmt)
        cursor.setBlockCharFormat(char_fmt)
        self._shift_after(entry, size)

    def _finish_stream(self, entry: Entry, content: str) -> bool:
        """Whether the streamed rendering stands, with only its tail left to render
        (no whole-message re-render: no stall at the end)."""
        if _REFERENCE_DEF.search(content) or entry.scan is None:
            return False
        # The last line needs no newline to close a code block.
        self._advance(entry, content if content.endswith("\n") else content + "\n")
        return entry.stable_len > 0

    def add_error(self, message: str, *, retry: bool = True) -> Entry:
        at_bottom = self._at_bottom()
        entry = self._add("error", source=message, retry=retry)
        t = self.theme
        link = (
            f' &nbsp; <a href="{self._href("retry")}" style="color:{t.link};"><b>Retry</b></a>'
            f' <span style="color:{t.muted};">(Ctrl+R)</span>'
            if retry
            else ""
        )
        self._replace(
            entry,
            0,
            f'<p style="margin:0; color:{t.error_text};"><b>Error</b></p>'
            f'<p style="margin:0;">{html.escape(message)}{link}</p>',
        )
        self._follow(at_bottom)
        return entry

    def _toggle(self, entry: Entry, what: str) -> None:
        if what == "reasoning":
            entry.reasoning_open = not entry.reasoning_open
            self._render_header(entry)
        elif what == "details":
            entry.expanded = not entry.expanded
            self._render_tool(entry)
        elif what == "full":
            entry.show_full = True
            self._render_tool(entry)

    # -- queries and edits ----------------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        return self._by_key.get(key)

    def last(self, kind: str) -> Entry | None:
        for entry in reversed(self.entries):
            if entry.kind == kind:
                return entry
        return None

    def last_answer(self) -> str | None:
        for entry in reversed(self.entries):
            if entry.kind == "assistant" and entry.source:
                return entry.source
        return None

    def truncate(self, entry: Entry) -> None:
        """Remove `entry` and everything after it."""
        if entry not in self.entries:
            return
        index = self.entries.index(entry)
        cursor = QTextCursor(self.document())
        cursor.setPosition(max(0, entry.pos - 1))
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        for gone in self.entries[index:]:
            self._by_key.pop(gone.key, None)
        del self.entries[index:]
        if not self.entries:
            self.document().clear()

    def clear_all(self) -> None:
        self.entries.clear()
        self._by_key.clear()
        self._code.clear()
        self._code_keys.clear()
        self.document().clear()
