"""What the transcript shows, per kind of entry, as HTML: pure functions of the
entry's data, the theme's colours and the transcript's links (no Qt widget, no
document). A user message (with its versions ◀ n/m ▶ and edit), an assistant
message's header (label, versions, reasoning; its body is Markdown), a tool call
(a one-line summary; details on click; long results previewed, binary described),
the approval card of a tool waiting for the user, an error (with Retry) and a notice.

Every text of the entry is HTML-escaped; ids (the provider's, or anyone's) reach
HTML only percent-encoded inside the transcript's own links (`AppLinks.href`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ...app.presentation import argument_summary
from ..formatting import describe_result, pretty_json
from .attachments import attachments_html
from .links import DECISIONS, AppLinks

if TYPE_CHECKING:
    from .palette import TranscriptTheme as Theme

__all__ = [
    "RESULT_PREVIEW_CHARS",
    "BlockLook",
    "Entry",
    "approval_html",
    "assistant_header_html",
    "block_look",
    "entry_html",
    "error_html",
    "finish_note_html",
    "notice_html",
    "tool_html",
    "user_html",
]

#: Tool results longer than this are cut for display (the full text is one click away).
RESULT_PREVIEW_CHARS = 2000


@dataclass(eq=False)
class Entry:
    """One thing shown in the transcript: its data, and where it sits in the document
    (`pos`, `header_len`: kept by `EntryDocument`)."""

    kind: str  # "user" | "assistant" | "tool" | "approval" | "error" | "notice"
    key: str
    pos: int  # document position of the entry's first character
    source: str = ""  # the text: message, notice, error
    label: str = ""
    # user: whether it has an edit link (a stored message)
    editable: bool = False
    # user / assistant: (1-based index, count) when the message has other versions
    versions: tuple[int, int] | None = None
    # assistant
    reasoning: str = ""
    reasoning_open: bool = False
    streaming: bool = False
    finish_reason: str | None = None
    header_len: int = 0  # document chars of the header region
    # tool, approval
    tool_name: str = ""
    arguments: Any = None
    result: str | None = None
    error: str | None = None
    duration_ms: float | None = None
    expanded: bool = False
    show_full: bool = False
    running: bool = False
    call_id: str = ""  # approval: the call it asks about
    outcome: str | None = None  # approval: "allow", "always", "deny" or a note
    # error
    retry: bool = False
    # user: its attachments' references (sha256, name, kind...; see transcript/attachments)
    attachments: list[dict[str, Any]] | None = None
    # assistant: the first of its turn (since the user's message): shows the model's name
    turn_head: bool = True
    # user: how far its bubble stands in from the column's left edge (fits its text)
    indent: int = 72


class BlockLook(NamedTuple):
    """How an entry's blocks look: their background (None: the page's; cards and
    bubbles are painted behind the blocks with rounded corners, see `decor`), the
    space above the entry's first block, and the blocks' side margins (a card's
    inner padding; a user's bubble also its indent from the left)."""

    background: str | None
    top_margin: int
    left_margin: int = 0
    right_margin: int = 0


#: Space before a user's message (a new turn) and before anything inside a turn.
TURN_GAP, INNER_GAP = 28, 18
#: A user's bubble starts this far from the column's left edge (it sits on the right).
BUBBLE_INDENT = 72
#: Inner padding of bubbles and cards.
CARD_PAD = 12


def block_look(kind: str, theme: Theme, indent: int = BUBBLE_INDENT) -> BlockLook:
    """`indent`: a user's bubble's distance from the column's left edge."""
    if kind == "user":
        return BlockLook(None, TURN_GAP + CARD_PAD, indent + CARD_PAD + 2, CARD_PAD)
    if kind in ("tool", "approval", "error"):
        return BlockLook(None, (6 if kind == "tool" else INNER_GAP) + 16, CARD_PAD, CARD_PAD)
    return BlockLook(None, INNER_GAP)


def entry_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """The whole of a user, notice, tool, approval or error entry. (An assistant
    entry is its `assistant_header_html` and its Markdown body.)"""
    render: Callable[[Entry, Theme, AppLinks], str] = {
        "user": user_html,
        "notice": notice_html,
        "tool": tool_html,
        "approval": approval_html,
        "error": error_html,
    }[entry.kind]
    return render(entry, theme, links)


# -- messages -------------------------------------------------------------------------


def label_html(text: str, entry: Entry, theme: Theme, links: AppLinks) -> str:
    """A message's small first line: the model's name (an answer that starts its
    turn), its versions and, when it can be, edit; "" when it has none of them."""
    t = theme
    extra = ""
    if entry.versions is not None:
        index, count = entry.versions
        prev = (
            f'<a href="{links.href("version", entry.key, "prev")}" '
            'style="text-decoration:none;">◀</a>'
            if index > 1
            else f'<span style="color:{t.muted};">◀</span>'
        )
        nxt = (
            f'<a href="{links.href("version", entry.key, "next")}" '
            'style="text-decoration:none;">▶</a>'
            if index < count
            else f'<span style="color:{t.muted};">▶</span>'
        )
        extra += f' &nbsp; {prev} <span style="color:{t.muted};">{index}/{count}</span> {nxt}'
    if entry.kind == "user" and entry.editable:
        extra += (
            f' &nbsp; <a href="{links.href("edit", entry.key)}" '
            f'style="color:{t.muted}; text-decoration:none;">edit</a>'
        )
    if not text and not extra:
        return ""
    name = f'<span style="color:{t.muted};">{html.escape(text)}</span>' if text else ""
    return f'<p style="margin:0; font-size:small;">{name}{extra}</p>'


def model_name(label: str) -> str:
    """ "Assistant · gpt-4o" -> "gpt-4o" (the name shown once per turn)."""
    head, dot, rest = label.partition(" · ")
    return rest if dot and head == "Assistant" else label


def user_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    body = html.escape(entry.source).replace("\n", "<br>")
    files = attachments_html(entry.attachments or [], links, theme.muted)
    return f'<p style="margin:0;">{body}</p>' + files + label_html("", entry, theme, links)


def assistant_header_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """The model's name (once per turn), versions and, when the model reasoned, a
    toggle for its reasoning; "" when there is none of these."""
    t = theme
    name = model_name(entry.label) if entry.turn_head else ""
    parts = [label_html(name, entry, theme, links)]
    if entry.reasoning:
        arrow = "▾" if entry.reasoning_open else "▸"
        state = "Thinking…" if entry.streaming and not entry.source else "Reasoning"
        parts.append(
            f'<p style="margin:0;"><a href="{links.href("toggle", entry.key, "reasoning")}" '
            f'style="color:{t.muted}; text-decoration:none;">{arrow} {state} '
            f"({len(entry.reasoning):,} chars)</a></p>"
        )
        if entry.reasoning_open:
            text = html.escape(entry.reasoning).replace("\n", "<br>")
            parts.append(f'<p style="margin:0; color:{t.muted};"><i>{text}</i></p>')
    return "".join(parts)


_FINISH_NOTES = {
    "cancelled": "stopped",
    "error": "interrupted",
    "interrupted": "interrupted: the app closed while this answer was being written",
    "length": "cut short: the answer reached the model's context or length limit",
}


def finish_note_html(finish_reason: str | None, theme: Theme) -> str:
    """The note under an answer that stopped early; "" for one that ended well."""
    note = _FINISH_NOTES.get(finish_reason or "")
    return f'<p style="color:{theme.muted};"><i>({note})</i></p>' if note else ""


def notice_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    return f'<p style="color:{theme.muted};">{html.escape(entry.source)}</p>'


def error_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    t = theme
    link = (
        f' &nbsp; <a href="{links.href("retry")}" style="color:{t.link};"><b>Retry</b></a>'
        f' <span style="color:{t.muted};">(Ctrl+R)</span>'
        if entry.retry
        else ""
    )
    return (
        f'<p style="margin:0; color:{t.error_text};"><b>Error</b></p>'
        f'<p style="margin:0;">{html.escape(entry.source)}{link}</p>'
    )


# -- tools ----------------------------------------------------------------------------


def tool_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """A tool call's card: state glyph, tool name, one-line arguments, state (running,
    ✓ with its duration and a result preview, ✗ with the reason); expanded, its
    arguments and result (JSON in colour)."""
    t = theme
    name = html.escape(entry.tool_name)
    summary = html.escape(argument_summary(entry.arguments))
    if entry.running:
        glyph, status = (
            f'<span style="color:{t.link};">◌</span>',
            (f'<span style="color:{t.muted};">Running…</span>'),
        )
    elif entry.error:
        glyph = f'<span style="color:{t.error_text};">✗</span>'
        status = f'<span style="color:{t.error_text};">failed: {html.escape(entry.error)}</span>'
    else:
        glyph = f'<span style="color:{t.ok};">✓</span>'
        preview = html.escape(argument_summary(describe_result(entry.result or ""), 50))
        shown = f' <span style="color:{t.muted};">→ {preview}</span>' if preview else ""
        ms = entry.duration_ms  # None or negative: not known (a call from history)
        known = ms is not None and ms >= 0
        took = f'<span style="color:{t.muted};">{_duration(ms or 0)}</span>' if known else ""
        status = f"{took}{shown}"
    arrow = "▾" if entry.expanded else "▸"
    line = (
        f'<p style="margin:0;">{glyph} '
        f'<a href="{links.href("toggle", entry.key, "details")}" '
        f'style="color:{t.text}; text-decoration:none; font-weight:600;">⚙ {name} {arrow}</a> '
        f'<span style="color:{t.muted}; font-family:{t.mono};">{summary}</span> '
        f"&nbsp;{status}</p>"
    )
    parts = [line]
    if entry.expanded:
        parts.append(_pre("Arguments", pretty_json(entry.arguments), theme, json=True))
        if entry.result is not None:
            result = entry.result
            more = ""
            if not entry.show_full and len(result) > RESULT_PREVIEW_CHARS:
                result = result[:RESULT_PREVIEW_CHARS]
                more = (
                    f'<p style="margin:0;"><a href="{links.href("toggle", entry.key, "full")}">'
                    f"show all {len(entry.result):,} characters</a></p>"
                )
            parts.append(_pre("Result", describe_result(result), theme, json=True) + more)
    return "".join(parts)


def _duration(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def approval_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """A card asking whether a tool may run: its full arguments, and the choices as
    buttons (or, once answered, what became of the request)."""
    t = theme
    name = html.escape(entry.tool_name)
    head = (
        f'<p style="margin:0;"><span style="color:{t.error_text};">⚠</span> '
        f'<b>Allow <span style="font-family:{t.mono};">{name}</span> to run?</b> '
        f'<span style="color:{t.muted}; font-size:small;">(a tool wants to run, not the model'
        " talking)</span></p>"
    )
    args = _pre("Arguments", pretty_json(entry.arguments), theme, json=True)
    if entry.outcome is None:
        allow, always, deny = (links.href("approve", entry.call_id, d) for d in DECISIONS)
        choices = (
            '<table cellspacing="6" cellpadding="6" style="margin-top:4px;"><tr>'
            + _button(allow, "Allow once", t, primary=True)
            + _button(always, f"Always allow {name}", t)
            + _button(deny, "Deny", t)
            + f'<td><span style="color:{t.muted}; font-size:small;">Enter allows once,'
            " Esc denies</span></td></tr></table>"
        )
    else:
        said = {
            "allow": "✓ Allowed once",
            "always": f"✓ Always allowed ({name} no longer asks; Settings → Tools revokes)",
            "deny": "✗ Denied: the model is told so",
        }.get(entry.outcome, html.escape(entry.outcome))
        choices = f'<p style="margin:4px 0 0 0; color:{t.muted};">{said}</p>'
    return head + args + choices


def _button(href: str, text: str, theme: Theme, *, primary: bool = False) -> str:
    """A link drawn as a button (a table cell with a fill and a border)."""
    t = theme
    fill = t.accent if primary else t.base
    ink = t.accent_text if primary else t.text
    return (
        f'<td bgcolor="{fill}" style="border:1px solid {t.border};">'
        f'<a href="{href}" style="color:{ink}; text-decoration:none;"><b>{text}</b></a></td>'
    )


def _pre(title: str, text: str, theme: Theme, *, json: bool = False) -> str:
    body = _json_html(text, theme) if json else html.escape(text)
    return (
        f'<p style="margin:6px 0 0 0; color:{theme.muted}; font-size:small;">{title}</p>'
        f'<pre style="margin:0; font-family:{theme.mono};">{body}</pre>'
    )


#: Longer texts are shown without colours (highlighting costs time per character).
JSON_HIGHLIGHT_LIMIT = 20_000


def _json_html(text: str, theme: Theme) -> str:
    """`text` escaped, in colour when it is JSON (pygments: loaded when first needed)."""
    stripped = text.lstrip()
    if len(text) > JSON_HIGHLIGHT_LIMIT or not stripped.startswith(("{", "[")):
        return html.escape(text)
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import JsonLexer

    style = "monokai" if theme.dark else "default"
    formatter = HtmlFormatter(style=style, noclasses=True, nowrap=True)
    return str(highlight(text, JsonLexer(), formatter)).rstrip("\n")
