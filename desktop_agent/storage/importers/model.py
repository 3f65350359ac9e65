"""What every importer produces: one conversation as a tree of messages in our
terms (roles user, assistant, tool), before anything is written; and the tree
work they share (splicing out what is not kept, cycles, the shown leaf).

A source's tree may hold nodes we do not keep (a hidden system message, a
browsing tool's internals, ChatGPT's empty root): `kept_tree` splices them out,
their children re-parented to the nearest kept ancestor, so edited branches
stay siblings (versions) exactly where they were.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FileRef",
    "ImportFormatError",
    "ImportedConversation",
    "ImportedMessage",
    "Node",
    "kept_tree",
    "optional_str",
    "paired_tool_calls",
    "text_of",
    "timestamp",
]


class ImportFormatError(ValueError):
    """A file or a conversation in it cannot be imported (the message says why)."""


@dataclass(frozen=True, slots=True)
class FileRef:
    """An image or file a message refers to: `pointer` is how the export names it
    (ChatGPT: "file-service://file-abc", "sediment://file_00…"; Open WebUI: a `data:`
    URL), `name` what to show. `text`: the file's text as the source extracted it
    (Claude's `extracted_content`), kept as a document when the file itself is not
    in the export. `stored`: an attachment of our own JSON (already prepared, its
    bytes checked against their sha256), kept as it is."""

    pointer: str
    name: str
    text: str | None = None
    #: an attachment of our own export, stored as it is: (bytes, MIME type, kind)
    stored: tuple[bytes, str, str] | None = None


@dataclass(slots=True)
class ImportedMessage:
    id: str  # the source's id (unique within the conversation)
    parent_id: str | None
    role: str  # user | assistant | tool
    content: str
    created_at: float | None = None
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    tool_name: str | None = None
    files: list[FileRef] = field(default_factory=list)
    status: str = "complete"
    error: str | None = None


@dataclass(slots=True)
class ImportedConversation:
    source: str  # chatgpt | claude | openwebui | desktop-agent
    source_id: str
    title: str
    created_at: float | None
    updated_at: float | None
    #: parents before children; siblings (versions) in the source's order
    messages: list[ImportedMessage]
    leaf_id: str | None  # the end of the shown path (a message id), None if empty
    model: str | None = None
    system_prompt: str | None = None


@dataclass(slots=True)
class Node:
    """A source's tree node before splicing: `message` None means "not kept"."""

    id: str
    parent: str | None
    message: ImportedMessage | None
    order: float = 0.0  # siblings are sorted by it (creation time, else position)


def kept_tree(
    nodes: Iterable[Node], leaf: str | None, *, what: str = "conversation"
) -> tuple[list[ImportedMessage], str | None]:
    """The kept messages, parents first, each re-parented to its nearest kept
    ancestor; and the shown leaf (the given one, else its nearest kept ancestor,
    else the deepest latest message). Raises ImportFormatError on a cycle or an
    unknown parent."""
    by_id: dict[str, Node] = {}
    for node in nodes:
        if node.id in by_id:
            raise ImportFormatError(f"the {what} has message {node.id!r} twice")
        by_id[node.id] = node
    for node in by_id.values():
        if node.parent is not None and node.parent not in by_id:
            raise ImportFormatError(f"message {node.id!r} answers an unknown message")
    _check_acyclic(by_id, what)
    skipped: dict[str, str | None] = {}  # memo: a node not kept -> its nearest kept ancestor

    def nearest_kept(node_id: str | None) -> str | None:
        trail: list[str] = []
        while node_id is not None:
            if node_id in skipped:
                node_id = skipped[node_id]
                break
            if by_id[node_id].message is not None:
                break
            trail.append(node_id)
            node_id = by_id[node_id].parent
        for t in trail:
            skipped[t] = node_id
        return node_id

    children: dict[str | None, list[Node]] = {}
    for node in by_id.values():
        if node.message is None:
            continue
        parent = nearest_kept(node.parent)
        node.message.parent_id = parent
        children.setdefault(parent, []).append(node)
    ordered: list[ImportedMessage] = []
    stack: list[Node] = sorted(children.get(None, []), key=lambda n: n.order, reverse=True)
    while stack:  # depth first, each level in order
        node = stack.pop()
        assert node.message is not None
        ordered.append(node.message)
        stack.extend(sorted(children.get(node.id, []), key=lambda n: n.order, reverse=True))
    shown = _shown_leaf(leaf, by_id, nearest_kept, children)
    return ordered, shown


def _check_acyclic(by_id: dict[str, Node], what: str) -> None:
    done: set[str] = set()
    for start in by_id:
        seen: list[str] = []
        on_walk: set[str] = set()
        node_id: str | None = start
        while node_id is not None and node_id not in done:
            if node_id in on_walk:
                loop = seen[seen.index(node_id) :]
                shown = ", ".join(repr(m) for m in loop[:4]) + (", …" if len(loop) > 4 else "")
                raise ImportFormatError(
                    f"messages {shown} form a cycle (each one answers the next)"
                )
            seen.append(node_id)
            on_walk.add(node_id)
            node_id = by_id[node_id].parent
        done.update(seen)


def _shown_leaf(
    leaf: str | None,
    by_id: dict[str, Node],
    nearest_kept: Any,
    children: dict[str | None, list[Node]],
) -> str | None:
    if leaf is not None and leaf in by_id:
        node = by_id[leaf]
        return leaf if node.message is not None else nearest_kept(node.parent)
    # No (known) leaf: follow the latest child from the latest root.
    current: str | None = None
    while True:
        below = children.get(current)
        if not below:
            return current
        current = max(below, key=lambda n: n.order).id


def paired_tool_calls(messages: list[ImportedMessage]) -> list[ImportedMessage]:
    """The messages with every tool call answered and every tool result answering a
    call, as models require of a history the conversation may go on from: a result
    whose call is not in the export gets a call (no arguments) above it; a call whose
    result is not (a browsing tool's internals, spliced out) gets a result saying so.
    A result answers the nearest assistant message above it (through other results)."""
    by_id = {m.id: m for m in messages}
    owner: dict[str, str] = {}  # tool result -> the assistant message it answers
    answered: dict[str, set[str]] = {}
    for m in messages:
        if m.role != "tool":
            continue
        parent = by_id.get(m.parent_id) if m.parent_id is not None else None
        if parent is not None and parent.role == "tool" and parent.id in owner:
            parent = by_id[owner[parent.id]]
        if parent is None or parent.role != "assistant" or not parent.tool_calls:
            continue
        ids = [str(c.get("id")) for c in parent.tool_calls]
        if m.tool_call_id is None:
            m.tool_call_id = next((i for i in ids if i not in answered.get(parent.id, ())), None)
        if m.tool_call_id in ids:
            owner[m.id] = parent.id
            answered.setdefault(parent.id, set()).add(m.tool_call_id)
    out: list[ImportedMessage] = []
    moved: dict[str, str] = {}  # an assistant message -> the last result added below it
    for m in messages:
        if m.parent_id in moved and (m.role != "tool" or m.id not in owner):
            m.parent_id = moved[m.parent_id]
        if m.role == "tool" and m.id not in owner:
            call_id = m.tool_call_id or f"call-{m.id}"
            name = m.tool_name or "tool"
            call = {"id": call_id, "name": name, "arguments": "{}"}
            out.append(
                ImportedMessage(
                    f"{m.id}#call", m.parent_id, "assistant", "", m.created_at, tool_calls=[call]
                )
            )
            m.parent_id, m.tool_call_id = f"{m.id}#call", call_id
        out.append(m)
        if m.role == "assistant" and m.tool_calls:
            last = m.id
            for call in m.tool_calls:
                if str(call.get("id")) in answered.get(m.id, ()):
                    continue
                result = ImportedMessage(
                    f"{m.id}#result-{call.get('id')}",
                    last,
                    "tool",
                    "(no result in the export)",
                    m.created_at,
                    tool_call_id=str(call.get("id")),
                    tool_name=str(call.get("name")),
                )
                out.append(result)
                last = result.id
            if last != m.id:
                moved[m.id] = last
    return out


def optional_str(value: Any) -> str | None:
    """A field as text (an id, a name), None when absent."""
    return str(value) if value is not None else None


def text_of(value: Any) -> str:
    """Plain text of a string, or of a list of strings / text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [text_of(v) for v in value]
        return "\n".join(p for p in parts if p)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    return ""


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from a number (seconds, or milliseconds when huge) or an
    ISO 8601 string; None when absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        from datetime import datetime

        try:
            number = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    else:
        try:
            number = float(value)  # ijson gives Decimal
        except (TypeError, ValueError):
            return None
    if number > 1e14:  # nanoseconds (Open WebUI's updated_at in some versions)
        number /= 1e9
    elif number > 1e11:  # milliseconds
        number /= 1e3
    return number if number > 0 else None
