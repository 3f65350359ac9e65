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
from typing import Any, NamedTuple

from ...app.presentation import argument_summary
from ..formatting import describe_result, pretty_json
from ..theme import Theme
from .links import DECISIONS, AppLinks

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


class BlockLook(NamedTuple):
    """How an entry's blocks look: their background (None: the page's) and the
    space above the entry's first block."""

    background: str | None
    top_margin: int


def block_look(kind: str, theme: Theme) -> BlockLook:
    background = {
        "user": theme.user_bg,
        "tool": theme.tool_bg,
        "error": theme.error_bg,
        "approval": theme.approval_bg,
    }.get(kind)
    return BlockLook(background, 3 if kind == "tool" else 12)


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
    """A message's first line: who says it, its versions and, when it can be, edit."""
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
    return f'<p style="margin:0;"><b>{html.escape(text)}</b>{extra}</p>'


def user_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    body = html.escape(entry.source).replace("\n", "<br>")
    return label_html("You", entry, theme, links) + f'<p style="margin:0;">{body}</p>'


def assistant_header_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """The label and, when the model reasoned, a toggle for its reasoning."""
    t = theme
    parts = [label_html(entry.label, entry, theme, links)]
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
    t = theme
    name = html.escape(entry.tool_name)
    summary = html.escape(argument_summary(entry.arguments))
    if entry.running:
        status = f'<span style="color:{t.muted};">running…</span>'
    elif entry.error:
        status = f'<span style="color:{t.error_border};">✗ {html.escape(entry.error)}</span>'
    else:
        preview = html.escape(argument_summary(describe_result(entry.result or ""), 50))
        shown = f' <span style="color:{t.muted};">→ {preview}</span>' if preview else ""
        ms = entry.duration_ms  # None or negative: not known (a call from history)
        took = f" {ms:.0f} ms" if ms is not None and ms >= 0 else ""
        status = f'<span style="color:{t.ok};">✓{took}</span>{shown}'
    arrow = "▾" if entry.expanded else "▸"
    line = (
        f'<p style="margin:0;"><a href="{links.href("toggle", entry.key, "details")}" '
        f'style="color:{t.muted}; text-decoration:none;">{arrow}</a> '
        f'<span style="font-family:monospace;"><b>{name}</b>({summary})</span> '
        f"{status}</p>"
    )
    parts = [line]
    if entry.expanded:
        parts.append(_pre("arguments", pretty_json(entry.arguments), theme))
        if entry.result is not None:
            result = entry.result
            more = ""
            if not entry.show_full and len(result) > RESULT_PREVIEW_CHARS:
                result = result[:RESULT_PREVIEW_CHARS]
                more = (
                    f'<p style="margin:0;"><a href="{links.href("toggle", entry.key, "full")}">'
                    f"show all {len(entry.result):,} characters</a></p>"
                )
            parts.append(_pre("result", describe_result(result), theme) + more)
    return "".join(parts)


def approval_html(entry: Entry, theme: Theme, links: AppLinks) -> str:
    """A card asking whether a tool may run: its full arguments, and the choices (or,
    once answered, what became of the request)."""
    t = theme
    name = html.escape(entry.tool_name)
    head = (
        f'<p style="margin:0;"><b>⚠ Allow <span style="font-family:monospace;">{name}</span>'
        " to run?</b></p>"
    )
    args = _pre("arguments", pretty_json(entry.arguments), theme)
    if entry.outcome is None:
        allow, always, deny = (links.href("approve", entry.call_id, d) for d in DECISIONS)
        choices = (
            f'<p style="margin:4px 0 0 0;">'
            f'<a href="{allow}"><b>Allow once</b></a> '
            f'<span style="color:{t.muted};">(Enter)</span> &nbsp;·&nbsp; '
            f'<a href="{always}">Always allow {name}</a> &nbsp;·&nbsp; '
            f'<a href="{deny}">Deny</a> '
            f'<span style="color:{t.muted};">(Esc)</span></p>'
        )
    else:
        said = {
            "allow": "✓ Allowed once",
            "always": f"✓ Always allowed ({name} no longer asks; Settings → Tools revokes)",
            "deny": "✗ Denied: the model is told so",
        }.get(entry.outcome, html.escape(entry.outcome))
        choices = f'<p style="margin:4px 0 0 0; color:{t.muted};">{said}</p>'
    return head + args + choices


def _pre(title: str, text: str, theme: Theme) -> str:
    return (
        f'<p style="margin:2px 0 0 0; color:{theme.muted};">{title}</p>'
        f'<pre style="margin:0; font-family:monospace;">{html.escape(text)}</pre>'
    )
