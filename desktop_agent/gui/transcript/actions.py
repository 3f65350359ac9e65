"""What can be done with one message (Copy, Edit, Regenerate (any answer), versions,
Delete from here, a tool's details, an approval's answers), the same list for the
hover toolbar, the context menu and the keyboard; a message as text with its author
(for screen readers); and the conversation as Markdown (Ctrl+A, Ctrl+C). No widget
here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .entries import Entry, model_name

if TYPE_CHECKING:
    from .widget import Transcript

__all__ = ["MessageAction", "actions_for", "conversation_markdown", "spoken"]

#: The kinds a keyboard focus (Alt+Up/Alt+Down) stops on.
FOCUSABLE = frozenset({"user", "assistant", "tool", "approval", "error"})


@dataclass(frozen=True)
class MessageAction:
    name: str  # the accessible name and the menu's text: "Copy message"
    glyph: str  # the toolbar button's face
    key: str  # the key that does it while the message has the keyboard focus
    run: Callable[[], None]


def actions_for(view: Transcript, entry: Entry) -> list[MessageAction]:
    """What the user may do with `entry`, in toolbar order."""
    found: list[MessageAction] = []
    add = found.append
    key = entry.key
    if entry.kind in ("user", "assistant", "error") and entry.source:
        add(MessageAction("Copy message", "Copy", "C", lambda: view.copy_entry(entry)))
    if entry.kind == "tool" and entry.result is not None:
        add(MessageAction("Copy result", "Copy", "C", lambda: view.copy_entry(entry)))
    if entry.kind == "user" and entry.editable:
        add(MessageAction("Edit message", "✎", "E", lambda: view.edit_requested.emit(key)))
    if entry.versions is not None:
        index, count = entry.versions
        if index > 1:
            add(
                MessageAction(
                    f"Previous version ({index - 1} of {count})",
                    "◀",
                    "Left",
                    lambda: view.version_requested.emit(key, -1),
                )
            )
        if index < count:
            add(
                MessageAction(
                    f"Next version ({index + 1} of {count})",
                    "▶",
                    "Right",
                    lambda: view.version_requested.emit(key, 1),
                )
            )
    if entry.kind == "assistant" and not entry.streaming:
        add(
            MessageAction(
                "Regenerate answer", "↻", "R", lambda: view.regenerate_requested.emit(key)
            )
        )
    elif entry.kind == "error" and entry.retry:
        add(MessageAction("Regenerate answer", "↻", "R", view.retry_requested.emit))
    stored = entry.kind == "assistant" or (entry.kind == "user" and entry.editable)
    if stored and not entry.streaming:
        add(MessageAction("Delete from here", "✕", "Del", lambda: view.delete_requested.emit(key)))
    if entry.kind == "tool":
        what = "Hide details" if entry.expanded else "Show details"
        glyph = "▾" if entry.expanded else "▸"
        add(MessageAction(what, glyph, "Return", lambda: view.toggle(entry)))
    if entry.kind == "approval" and entry.outcome is None:
        call = entry.call_id
        for decision, name, hint in (
            ("allow", "Allow once", "A"),
            ("always", f"Always allow {entry.tool_name}", "W"),
            ("deny", "Deny", "D"),
        ):
            add(
                MessageAction(
                    name,
                    name,
                    hint,
                    lambda d=decision: view.approval_answered.emit(call, d),  # type: ignore[misc]
                )
            )
    return found


def author(entry: Entry) -> str:
    if entry.kind == "user":
        return "You"
    if entry.kind == "assistant":
        name = model_name(entry.label)
        return f"Assistant ({name})" if name and name != "Assistant" else "Assistant"
    return {"tool": "Tool", "approval": "Approval request", "error": "Error"}.get(
        entry.kind, "Note"
    )


def spoken(entry: Entry) -> str:
    """The message as a screen reader should read it: its author, then its text."""
    if entry.kind == "tool":
        state = "running" if entry.running else f"failed: {entry.error}" if entry.error else "done"
        shown = "details shown" if entry.expanded else "details hidden (Enter shows them)"
        return f"Tool {entry.tool_name}, {state}, {shown}"
    if entry.kind == "approval":
        state = "waiting for your answer" if entry.outcome is None else entry.outcome
        return f"Approval request: allow {entry.tool_name} to run? {state}"
    text = entry.source
    if entry.versions is not None:
        text += f" (version {entry.versions[0]} of {entry.versions[1]})"
    return f"{author(entry)}: {text}"


def conversation_markdown(entries: Sequence[Entry]) -> str:
    """The conversation shown, as Markdown: the messages as written, tool calls as a
    line each."""
    parts: list[str] = []
    for entry in entries:
        if entry.kind == "user":
            parts.append("**You:**\n\n" + entry.source)
        elif entry.kind == "assistant":
            if entry.source:
                head = f"**{author(entry)}:**\n\n" if entry.turn_head else ""
                parts.append(head + entry.source)
        elif entry.kind == "tool":
            state = f"failed: {entry.error}" if entry.error else "done"
            parts.append(f"> Tool `{entry.tool_name}`: {state}")
        elif entry.kind in ("error", "notice"):
            parts.append(f"> {entry.source}")
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"
