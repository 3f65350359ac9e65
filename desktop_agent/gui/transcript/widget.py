"""The transcript widget: wires `EntryDocument` (where each entry's blocks are), the
renderers of `entries` (what each kind shows), `StreamingBody` (an answer as it
streams) and `AppLinks`, and turns clicks into signals.

Model output is never trusted: Markdown is rendered with raw HTML escaped, no
resource is ever loaded (`loadResource` refuses everything), links open in the
system browser only when clicked and only for http, https and mailto, the app's
own links have a random scheme per transcript (see `links`), and hovering a link
reports its real target (`link_hovered`), so its text cannot disguise it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QTextBrowser, QWidget

from ..colors import Theme
from . import entries as render
from .copy_feedback import CopyFeedback
from .document import EntryDocument
from .entries import Entry
from .interaction import Interaction
from .links import DECISIONS, SAFE_SCHEMES, AppLinks, CopyTargets
from .palette import TranscriptTheme

if TYPE_CHECKING:
    from .markdown import MarkdownRenderer
    from .streaming import StreamingBody

__all__ = ["Transcript"]


class Transcript(Interaction, QTextBrowser):
    """Shows the conversation; emits what the user asks for through its links (and
    its actions: see `Interaction`)."""

    retry_requested = Signal()  # the user clicked Retry on an error entry
    regenerate_requested = Signal(str)  # entry key (message id) of an answer to redo
    delete_requested = Signal(str)  # entry key (message id): delete it and what follows
    version_requested = Signal(str, int)  # entry key (message id), step: -1 (◀) or +1 (▶)
    edit_requested = Signal(str)  # entry key of a user message to edit
    approval_answered = Signal(str, str)  # call_id, decision ("allow" | "always" | "deny")
    copied = Signal(str)  # what was copied to the clipboard (code block)
    link_opened = Signal(str)  # an external URL handed to the system browser
    link_refused = Signal(str)  # a URL that was clicked but is not allowed
    link_hovered = Signal(str)  # the real target of the link under the mouse; "" when none
    image_requested = Signal(str, str)  # sha256, name: a thumbnail was clicked
    source_requested = Signal(str)  # a cited passage's `knowledge:` link was clicked

    def __init__(self, parent: QWidget | None = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Conversation transcript")
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(16)
        self.anchorClicked.connect(self._on_anchor)
        self.highlighted.connect(self._on_hover)
        # (`theme` is kept for callers; the colours come from this widget's palette)
        self.theme: TranscriptTheme = TranscriptTheme.from_palette(self.palette())
        self.links = AppLinks()
        self._copy = CopyTargets(self.links)
        self._doc = EntryDocument(self.document(), self._look)
        self._streaming: StreamingBody | None = None  # (`_body`: built when first needed)
        self._apply_style_sheet()
        #: Refused resource requests, for tests and the curious.
        self.refused_resources: list[str] = []
        self._setup_interaction()
        #: "Copied" on a code block's Copy link for a while after it was used.
        self.copy_feedback = CopyFeedback(self._doc, self.links, self)

    @property
    def entries(self) -> list[Entry]:
        """What is shown, in order."""
        return self._doc.entries

    # -- links --------------------------------------------------------------------

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        """Nothing in the transcript is ever loaded: not files, not the network."""
        self.refused_resources.append(url.toString() if isinstance(url, QUrl) else str(url))
        return None

    @property
    def app_scheme(self) -> str:
        """The scheme of this transcript's own links: random, so nothing else can make one."""
        return self.links.scheme

    def app_link(self, action: str, key: str = "", arg: str = "") -> str:
        """The href of one of the app's own links (HTML-escape it in an attribute)."""
        return self.links.make(action, key, arg)

    def _app_action(self, url: QUrl) -> tuple[str, str, str] | None:
        return self.links.parse(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))

    def _on_anchor(self, url: QUrl) -> None:
        app = self._app_action(url)
        if app is not None:
            self._on_app_link(*app)
        elif url.scheme().lower() == "knowledge":
            self.source_requested.emit(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))
        elif url.scheme().lower() in SAFE_SCHEMES:
            QDesktopServices.openUrl(url)
            self.link_opened.emit(url.toString())
        else:
            self.link_refused.emit(url.toString())

    def _on_app_link(self, action: str, key: str, arg: str) -> None:
        if action == "copy":
            code = self._copy.get(key)
            if code is not None:
                QGuiApplication.clipboard().setText(code)
                if self.copy_feedback.copied(key):
                    self.announce("Copied")
                self.copied.emit(code)
        elif action == "toggle":
            entry = self._doc.by_key.get(key)
            if entry is not None:
                self._toggle(entry, arg)
        elif action == "retry":
            self.retry_requested.emit()
        elif action == "edit":
            self.edit_requested.emit(key)
        elif action == "approve" and arg in DECISIONS:
            self.approval_answered.emit(key, arg)
        elif action == "view":
            self.image_requested.emit(key, arg)
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
    def _body(self) -> StreamingBody:
        """Renders answers as they stream (imported on first use: not before the
        window's first paint)."""
        if self._streaming is None:
            from .streaming import StreamingBody

            self._streaming = StreamingBody(self._doc, self.theme, self._copy.link)
        return self._streaming

    @property
    def _renderer(self) -> MarkdownRenderer:
        return self._body.renderer

    def prepare(self) -> None:
        """Build the Markdown renderer now (after start-up) rather than on the first answer."""
        self._body.renderer.render("*warm* `up`")

    # -- view ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _following(self) -> Iterator[None]:
        """Stay at the bottom through an edit if the view was there."""
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 8
        yield
        if at_bottom:
            bar.setValue(bar.maximum())

    @contextlib.contextmanager
    def inserting_at_top(self) -> Iterator[None]:
        """Entries added inside the block go before everything shown, in order (a
        page of older messages); the view stays on what the user was reading."""
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        try:
            with self._doc.at_top():
                yield
        finally:
            bar.setValue(bar.maximum() - from_bottom)

    def _bounds(self, entry: Entry) -> tuple[int, int]:
        """(first position, end position) of the entry's text, its last separator excluded."""
        return self._doc.bounds(entry)

    def _look(self, entry: Entry) -> render.BlockLook:
        return render.block_look(entry.kind, self.theme, entry.indent)

    def _render(self, entry: Entry) -> None:
        """Show the entry as it is now (an assistant entry: its header)."""
        if entry.kind == "assistant":
            header = render.assistant_header_html(entry, self.theme, self.links)
            self._doc.replace_header(entry, header)
            if not header:
                self._doc.collapse_header(entry)
        else:
            self._doc.replace(entry, 0, render.entry_html(entry, self.theme, self.links))
        self.viewport().update()

    def rerender_all(self) -> None:
        """Show every entry again in the current colours (after a palette change)."""
        note = render.finish_note_html
        with self._following():
            for entry in self.entries:
                self._render(entry)
                if entry.kind == "assistant" and not entry.streaming:
                    self._body.show_whole(entry, note(entry.finish_reason, self.theme))

    def toggle(self, entry: Entry, what: str = "details") -> None:
        """Open or close a tool call's details (or an answer's reasoning)."""
        self._toggle(entry, what)

    def _add(self, kind: str, key: str | None = None, **fields: Any) -> Entry:
        with self._following():
            entry = self._doc.add(kind, key, **fields)
            self._render(entry)
        return entry

    def _toggle(self, entry: Entry, what: str) -> None:
        if what == "reasoning":
            entry.reasoning_open = not entry.reasoning_open
        elif what == "details":
            entry.expanded = not entry.expanded
        elif what == "full":
            entry.show_full = True
        else:
            return
        self._render(entry)

    # -- entries ------------------------------------------------------------------

    def add_user(
        self,
        text: str,
        key: str | None = None,
        versions: tuple[int, int] | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> Entry:
        """A user message; `attachments`' image thumbnails must have been added first
        (`gui/transcript_thumbnails.add_thumbnails`)."""
        indent = self._bubble_indent(text)
        return self._add(
            "user",
            key,
            source=text,
            label="You",
            versions=versions,
            editable=key is not None,
            attachments=attachments,
            indent=indent,
        )

    def set_versions(self, key: str, versions: tuple[int, int] | None) -> None:
        """Show (or hide) the ◀ n/m ▶ of a message."""
        entry = self._doc.by_key.get(key)
        if entry is None or entry.versions == versions:
            return
        entry.versions = versions
        if entry.kind in ("user", "assistant"):
            self._render(entry)

    def add_notice(self, text: str) -> Entry:
        return self._add("notice", source=text)

    def add_error(self, message: str, *, retry: bool = True) -> Entry:
        return self._add("error", source=message, retry=retry)

    def begin_assistant(self, message_id: str, label: str = "Assistant") -> Entry:
        existing = self._doc.by_key.get(message_id)
        if existing is not None:
            return existing
        with self._following():
            entry = self._doc.add("assistant", message_id, label=label, streaming=True)
            entry.turn_head = self._doc.starts_turn(entry)
            self._render(entry)
            self._doc.start_body(entry)
        return entry

    def append_reasoning(self, message_id: str, text: str) -> None:
        entry = self._doc.by_key.get(message_id) or self.begin_assistant(message_id)
        with self._following():
            entry.reasoning += text
            self._render(entry)

    def append_chunk(self, message_id: str, text: str) -> None:
        """Add streamed text to a message; re-renders only its unfinished tail."""
        entry = self._doc.by_key.get(message_id) or self.begin_assistant(message_id)
        with self._following():
            if not entry.source and entry.reasoning:
                entry.source = text
                self._render(entry)  # "Thinking…" becomes "Reasoning"
            else:
                entry.source += text
            self._body.update(entry)

    def complete_assistant(self, message_id: str, content: str, finish_reason: str | None) -> Entry:
        """Render the whole message once, exactly; note an early stop."""
        entry = self._doc.by_key.get(message_id) or self.begin_assistant(message_id)
        with self._following():
            streamed = entry.source
            entry.source = content
            entry.streaming = False
            entry.finish_reason = finish_reason
            self._render(entry)
            self._body.finish(entry, streamed, render.finish_note_html(finish_reason, self.theme))
        return entry

    def add_tool_call(self, call_id: str, name: str, arguments: Any) -> Entry:
        entry = self._doc.by_key.get(call_id)
        if entry is None:
            return self._add("tool", call_id, tool_name=name, arguments=arguments, running=True)
        with self._following():
            entry.arguments = arguments
            entry.running = True
            self._render(entry)
        return entry

    def finish_tool_call(
        self, call_id: str, name: str, result: str | None, error: str | None, duration_ms: float
    ) -> Entry:
        entry = self._doc.by_key.get(call_id) or self.add_tool_call(call_id, name, None)
        with self._following():
            entry.running = False
            entry.result = result
            entry.error = error
            entry.duration_ms = duration_ms
            self._render(entry)
        return entry

    def add_approval(self, call_id: str, name: str, arguments: Any) -> Entry:
        """A card asking whether a tool may run: its full arguments, and the choices."""
        return self._add(
            "approval", f"approval:{call_id}", tool_name=name, arguments=arguments, call_id=call_id
        )

    def resolve_approval(self, call_id: str, outcome: str) -> None:
        """Show what became of the request: "allow", "always", "deny" or a note."""
        entry = self._doc.by_key.get(f"approval:{call_id}")
        if entry is not None and entry.outcome is None:
            entry.outcome = outcome
            self._render(entry)

    def pending_approvals(self) -> list[str]:
        """Call ids of the cards still waiting for an answer, oldest first."""
        return [e.call_id for e in self.entries if e.kind == "approval" and e.outcome is None]

    # -- queries and edits ----------------------------------------------------------

    def entry(self, key: str) -> Entry | None:
        return self._doc.by_key.get(key)

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
        self.copy_feedback.restore()
        self._doc.truncate(entry)
        self._forget_focus()

    def clear_all(self) -> None:
        self.copy_feedback.showing = None
        self._doc.clear()
        self._copy.clear()
        self._forget_focus()
