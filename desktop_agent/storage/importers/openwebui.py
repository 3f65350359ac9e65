"""Open WebUI's chat export (Settings → Chats → Export, or one chat's "Export
chat (.json)"): an array of `{id, title, chat: {history: {messages, currentId}},
created_at, updated_at}` (or one such object, or a bare `chat`).

`history.messages` maps ids to `{id, parentId, childrenIds, role, content,
timestamp, model, files}`: a regenerated answer or an edited message is another
child of the same parent, so a version here; `currentId` is the shown leaf.

Files: a message's `files` entries (`{type: "image", url: "data:image/png;base64,…"}`
for a pasted image; `{type: "file", name, url: "/api/v1/files/…"}` for an upload,
whose bytes stay on the server) and Markdown images with a `data:` URL in its text
(`![](data:image/png;base64,…)`, taken out of the text) are file refs: the
embedded ones become attachments of a user message (see `files`), uploads are
listed as missing, images in answers as not kept.
"""

from __future__ import annotations

import re
from typing import Any

from .model import (
    FileRef,
    ImportedConversation,
    ImportedMessage,
    ImportFormatError,
    Node,
    kept_tree,
    optional_str,
    text_of,
    timestamp,
)

__all__ = ["SOURCE", "convert", "looks_like"]

SOURCE = "openwebui"
#: A Markdown image whose source is a base64 `data:` URL.
_DATA_IMAGE = re.compile(
    r"!\[([^\]\n]{0,200})\]\((data:image/[\w.+-]{1,40};base64,[A-Za-z0-9+/=\s]+)\)"
)


def _chat(item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    chat: dict[str, Any] = item["chat"] if isinstance(item.get("chat"), dict) else item
    history = chat.get("history")
    if isinstance(history, dict) and isinstance(history.get("messages"), dict):
        return chat
    return None


def looks_like(item: Any) -> bool:
    return _chat(item) is not None


def convert(item: dict[str, Any]) -> ImportedConversation:
    chat = _chat(item)
    if chat is None:
        raise ImportFormatError("it has no `chat.history.messages`")
    history = chat["history"]
    source_id = item.get("id") or chat.get("id")
    if not isinstance(source_id, str) or not source_id:
        raise ImportFormatError("it has no `id`")
    nodes: list[Node] = []
    for position, (key, raw) in enumerate(history["messages"].items()):
        if not isinstance(raw, dict):
            raise ImportFormatError(f"message {key!r} is not an object")
        message_id = str(raw.get("id") or key)
        parent = raw.get("parentId")
        message = _message(message_id, raw)
        order = timestamp(raw.get("timestamp"))
        nodes.append(
            Node(
                message_id,
                optional_str(parent),
                message,
                order=order if order is not None else float(position),
            )
        )
    current = history.get("currentId")
    messages, leaf = kept_tree(nodes, optional_str(current), what="chat")
    models = chat.get("models")
    model = (
        models[0] if isinstance(models, list) and models and isinstance(models[0], str) else None
    )
    system = (
        (chat.get("params") or {}).get("system") if isinstance(chat.get("params"), dict) else None
    )
    return ImportedConversation(
        source=SOURCE,
        source_id=source_id,
        title=str(item.get("title") or chat.get("title") or ""),
        created_at=timestamp(item.get("created_at") or chat.get("timestamp")),
        updated_at=timestamp(item.get("updated_at")),
        messages=messages,
        leaf_id=leaf,
        model=model,
        system_prompt=system if isinstance(system, str) and system else None,
    )


def _message(message_id: str, raw: dict[str, Any]) -> ImportedMessage | None:
    role = raw.get("role")
    if role not in ("user", "assistant"):
        return None  # (system messages live in the chat's params)
    files: list[FileRef] = []
    for entry in raw.get("files") or []:
        if isinstance(entry, dict):
            url = entry.get("url")
            name = entry.get("name") or (entry.get("file") or {}).get("filename") or "image"
            if isinstance(url, str) and url:
                files.append(FileRef(url, str(name)))
    text = text_of(raw.get("content"))
    if "data:image/" in text:
        for match in _DATA_IMAGE.finditer(text):
            files.append(FileRef(re.sub(r"\s", "", match[2]), match[1].strip() or "image"))
        text = _DATA_IMAGE.sub("", text).strip()
    return ImportedMessage(
        message_id,
        None,
        str(role),
        text,
        timestamp(raw.get("timestamp")),
        files=files,
    )
