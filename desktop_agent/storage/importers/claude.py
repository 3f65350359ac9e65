"""Claude's data export: `conversations.json`, an array of
`{uuid, name, created_at, updated_at, chat_messages: [...]}`; each message
`{uuid, sender: human | assistant, text, content: [blocks], created_at,
attachments, files}` and, in newer exports, `parent_message_uuid` (then the
messages form a tree, edits and retries as siblings, and the conversation's
`current_leaf_message_uuid` is the shown one; else they are one chain).

Content blocks: `text` is the message's text; `thinking` its reasoning;
`tool_use` and `tool_result` become plain-text tool entries (a call on the
assistant message, then a tool message with the result's text).

Files: an entry of `attachments` (`file_name`, `file_type`, `extracted_content`)
becomes a document attachment of its message holding the extracted text (the
export has no other copy); an entry of `files` (`file_name`, `file_uuid`) is kept
when an archive holds a file of that name, else listed as missing (Claude's
exports hold no images). Without an attachment store the extracted text stays in
the message's text.
"""

from __future__ import annotations

import json
from typing import Any

from .model import (
    FileRef,
    ImportedConversation,
    ImportedMessage,
    ImportFormatError,
    Node,
    kept_tree,
    text_of,
    timestamp,
)

__all__ = ["SOURCE", "convert", "looks_like"]

SOURCE = "claude"
_ROOT = "00000000-0000-4000-8000-000000000000"  # the parent of a first message


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("chat_messages"), list)


def convert(item: dict[str, Any]) -> ImportedConversation:
    raw_messages = item.get("chat_messages")
    if not isinstance(raw_messages, list):
        raise ImportFormatError("it has no `chat_messages` list")
    source_id = item.get("uuid")
    if not isinstance(source_id, str) or not source_id:
        raise ImportFormatError("it has no `uuid`")
    known = {m.get("uuid") for m in raw_messages if isinstance(m, dict)}
    tree = bool(raw_messages) and all(
        isinstance(m, dict)
        and "parent_message_uuid" in m
        and m.get("parent_message_uuid") in known | {_ROOT, None}
        for m in raw_messages
    )
    # Each Claude message becomes a chain of ours (text, tool entries, more text):
    # its first hangs below the chain of its parent, whose last is `tail[parent]`.
    chains: list[tuple[str, str | None, list[ImportedMessage]]] = []
    for position, raw in enumerate(raw_messages):
        if not isinstance(raw, dict):
            raise ImportFormatError(f"message {position + 1} is not an object")
        message_id = str(raw.get("uuid") or f"#{position}")
        parent = raw.get("parent_message_uuid") if tree else None
        chains.append(
            (
                message_id,
                None if parent in (_ROOT, None) else str(parent),
                _messages(message_id, raw),
            )
        )
    # (a message that keeps nothing stays as a node that is not kept: spliced out)
    tail = {message_id: chain[-1].id if chain else message_id for message_id, _p, chain in chains}
    nodes: list[Node] = []
    previous: str | None = None  # (a chain: the last message so far)
    for position, (message_id, parent_uuid, chain) in enumerate(chains):
        if tree:
            parent = tail.get(parent_uuid, parent_uuid) if parent_uuid is not None else None
        else:
            parent = previous
        if not chain:
            nodes.append(Node(message_id, parent, None, order=float(position)))
        for message in chain:
            nodes.append(Node(message.id, parent, message, order=float(position)))
            parent = message.id
        previous = parent
    leaf = item.get("current_leaf_message_uuid")
    messages, shown = kept_tree(nodes, tail.get(str(leaf)) if leaf else None)
    if shown is None and messages:  # no leaf given: the last message written
        shown = messages[-1].id
    return ImportedConversation(
        source=SOURCE,
        source_id=source_id,
        title=str(item.get("name") or ""),
        created_at=timestamp(item.get("created_at")),
        updated_at=timestamp(item.get("updated_at")),
        messages=messages,
        leaf_id=shown,
    )


def _messages(message_id: str, raw: dict[str, Any]) -> list[ImportedMessage]:
    """One Claude message as ours: the message, then a tool entry per tool result
    (and the text after it as another assistant message) when it used tools."""
    sender = raw.get("sender")
    role = {"human": "user", "assistant": "assistant"}.get(str(sender))
    if role is None:
        return []
    created = timestamp(raw.get("created_at"))
    files = _files(raw)
    blocks = raw.get("content")
    if not isinstance(blocks, list) or not blocks:
        blocks = [{"type": "text", "text": text_of(raw.get("text"))}]
    out: list[ImportedMessage] = []
    current = ImportedMessage(message_id, None, role, "", created, files=files)
    texts: list[str] = []
    calls: list[dict[str, Any]] = []  # every call so far (a result names its call)
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(text_of(block.get("text")))
        elif kind == "thinking":
            current.reasoning += text_of(block.get("thinking"))
        elif kind == "tool_use":
            arguments = block.get("input")
            call = {
                "id": str(block.get("id") or f"call-{message_id}-{len(out)}"),
                "name": str(block.get("name") or "tool"),
                "arguments": json.dumps(arguments if arguments is not None else {}, default=str),
            }
            current.tool_calls = [*(current.tool_calls or []), call]
            calls.append(call)
        elif kind == "tool_result":
            current.content = _joined([current.content, *texts])
            texts = []
            if current.content or current.tool_calls or current.reasoning or not out:
                out.append(current)  # (an empty one between two results is left out)
                current = ImportedMessage(f"{message_id}#{len(out)}", None, role, "", created)
            out.append(
                ImportedMessage(
                    f"{message_id}#{len(out)}",
                    None,
                    "tool",
                    text_of(block.get("content")),
                    created,
                    tool_call_id=str(
                        block.get("tool_use_id") or (calls[-1]["id"] if calls else "")
                    ),
                    tool_name=str(block.get("name") or (calls[-1]["name"] if calls else "tool")),
                )
            )
            current.id = f"{message_id}#{len(out)}"
    current.content = _joined([current.content, *texts])
    if not out or current.content or current.tool_calls or current.reasoning:
        out.append(current)
    return out


def _joined(texts: list[str]) -> str:
    return "\n\n".join(t for t in texts if t)


def _files(raw: dict[str, Any]) -> list[FileRef]:
    """A message's `attachments` (documents, with the text Claude extracted from
    them) and `files` (images and other uploads, by name; the export does not hold
    their bytes, so they are missing unless an archive has them), each once."""
    out: dict[str, FileRef] = {}
    for key in ("attachments", "files"):
        for entry in raw.get(key) or []:
            if not isinstance(entry, dict):
                continue
            name = entry.get("file_name")
            if not isinstance(name, str) or not name:
                name = "attachment" if isinstance(entry.get("extracted_content"), str) else None
            if name is None or name in out:
                continue
            text = entry.get("extracted_content")
            out[name] = FileRef(name, name, text if isinstance(text, str) else None)
    return list(out.values())
