"""ChatGPT's data export: `conversations.json` (in the `.zip` the export mail links
to), an array of conversations, each a `mapping` of nodes
`{id, parent, children, message}` with a `current_node` (the shown leaf).

A message is `{author: {role, name}, create_time, content: {content_type, parts |
text}, recipient, metadata}`. What is kept:

* user and assistant text (`text`, `multimodal_text`);
* images and files: an `image_asset_pointer` part names its file by `asset_pointer`
  ("file-service://file-abc", "sediment://file_00ab…"), an upload is listed in
  `metadata.attachments` (id, name); the archive holds the file under a name that
  starts with the id ("file-abc-cat.png", "dalle-generations/file-abc-….webp",
  "file_00ab-….png", sometimes ".dat"). The user's become attachments of their
  message (see `files`); images in answers and tool results (DALL·E) are listed,
  not kept;
* an assistant message addressed to a tool (`recipient` "python", "web", ...): a
  tool call with the code or text as its arguments; the tool's answer
  (`execution_output`, text) a tool entry;
* every branch: an edited message or a regenerated answer is a sibling, so a version.

Not kept (spliced out, their children re-parented): the empty root, system messages
(`is_visually_hidden_from_conversation` or not: a visible one's text becomes the
conversation's system prompt), custom-instruction context, browsing internals
(`tether_*`), reasoning (`thoughts` summaries and `analysis`-channel messages become the
reasoning of the answer they led to; `reasoning_recap`), empty messages.
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
    optional_str,
    text_of,
    timestamp,
)
from .source import pointer_id

__all__ = ["SOURCE", "convert", "looks_like"]

SOURCE = "chatgpt"
_HIDDEN_TYPES = {
    "user_editable_context",
    "model_editable_context",
    "tether_browsing_display",
    "tether_quote",
    "thoughts",
    "reasoning_recap",
    "sonic_webpage",
}


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("mapping"), dict)


def convert(item: dict[str, Any]) -> ImportedConversation:
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise ImportFormatError("it has no message tree (`mapping`)")
    source_id = item.get("conversation_id") or item.get("id")
    title = str(item.get("title") or "")
    if not isinstance(source_id, str) or not source_id:
        # (very old exports): title and start time identify it well enough
        source_id = f"{title}@{item.get('create_time')}"
    system_prompt: list[str] = []
    nodes: list[Node] = []
    model: str | None = None
    thoughts: dict[str, str] = {}  # a reasoning node (spliced out) -> its text
    for position, (key, raw) in enumerate(mapping.items()):
        if not isinstance(raw, dict):
            raise ImportFormatError(f"node {key!r} is not an object")
        node_id = str(raw.get("id") or key)
        parent = raw.get("parent")
        message = _message(node_id, raw.get("message"), system_prompt)
        thought = _thoughts(raw.get("message"))
        if thought:
            thoughts[node_id] = thought
        if message is not None and message.role == "assistant" and model is None:
            slug = (raw["message"].get("metadata") or {}).get("model_slug")
            model = slug if isinstance(slug, str) else None
        created = message.created_at if message else None
        nodes.append(
            Node(
                node_id,
                optional_str(parent),
                message,
                order=created if created is not None else float(position),
            )
        )
    if thoughts:
        _attach_thoughts(nodes, thoughts)
    messages, leaf = kept_tree(nodes, optional_str(item.get("current_node")), what="conversation")
    slug = item.get("default_model_slug")
    return ImportedConversation(
        source=SOURCE,
        source_id=source_id,
        title=title,
        created_at=timestamp(item.get("create_time")),
        updated_at=timestamp(item.get("update_time")),
        messages=messages,
        leaf_id=leaf,
        model=slug if isinstance(slug, str) else model,
        system_prompt="\n\n".join(system_prompt) or None,
    )


def _thoughts(raw: Any) -> str:
    """The reasoning of a `thoughts` message (o1, o3...: its summaries) or of one on the
    `analysis` channel, else ""."""
    if not isinstance(raw, dict):
        return ""
    content = _dict(raw.get("content"))
    if raw.get("channel") == "analysis":  # (newer models: reasoning as a message)
        return _content(content)[0]
    if content.get("content_type") != "thoughts" or not isinstance(content.get("thoughts"), list):
        return ""
    parts = []
    for thought in content["thoughts"]:
        if isinstance(thought, dict):
            summary, text = thought.get("summary"), thought.get("content")
            parts.append("\n".join(str(p) for p in (summary, text) if isinstance(p, str) and p))
    return "\n\n".join(p for p in parts if p)


def _attach_thoughts(nodes: list[Node], thoughts: dict[str, str]) -> None:
    """Reasoning (not kept as a message) becomes the `reasoning` of the assistant
    message it led to: the nearest below it through other nodes not kept."""
    by_id = {node.id: node for node in nodes}
    for node in nodes:
        if node.message is None or node.message.role != "assistant":
            continue
        found: list[str] = []
        parent = node.parent
        seen: set[str] = set()
        while parent is not None and parent in by_id and parent not in seen:
            seen.add(parent)
            above = by_id[parent]
            if above.message is not None:
                break
            if parent in thoughts:
                found.append(thoughts[parent])
            parent = above.parent
        if found:
            node.message.reasoning = "\n\n".join(reversed(found))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(node_id: str, raw: Any, system_prompt: list[str]) -> ImportedMessage | None:
    """The message we keep for a node, or None (spliced out)."""
    if not isinstance(raw, dict):
        return None
    author = _dict(raw.get("author"))
    role = author.get("role")
    content = _dict(raw.get("content"))
    metadata = _dict(raw.get("metadata"))
    kind = content.get("content_type")
    if kind in _HIDDEN_TYPES or raw.get("channel") == "analysis":
        return None  # (reasoning: see `_thoughts`)
    uploads = _attachments(metadata)
    text, files = _content(content, {pointer_id(ref.pointer): ref.name for ref in uploads})
    shown = {pointer_id(ref.pointer) for ref in files}  # (an uploaded image is in both)
    files += [ref for ref in uploads if pointer_id(ref.pointer) not in shown]
    created = timestamp(raw.get("create_time"))
    if role == "system":
        if text.strip() and not metadata.get("is_visually_hidden_from_conversation"):
            system_prompt.append(text)
        return None
    if metadata.get("is_visually_hidden_from_conversation"):
        return None
    recipient = raw.get("recipient") or "all"
    if role == "user":
        if not text and not files:
            return None
        return ImportedMessage(node_id, None, "user", text, created, files=files)
    if role == "assistant":
        if recipient != "all":  # a call of a tool: its code or query, as plain text
            arguments = json.dumps({"code": text} if kind == "code" else {"input": text})
            call = {"id": f"call-{node_id}", "name": str(recipient), "arguments": arguments}
            return ImportedMessage(node_id, None, "assistant", "", created, tool_calls=[call])
        if kind == "code" and text:
            language = str(content.get("language") or "")
            text = f"```{'' if language == 'unknown' else language}\n{text}\n```"
        if not text and not files:
            return None
        return ImportedMessage(node_id, None, "assistant", text, created, files=files)
    if role == "tool":
        if not text and not files:
            return None
        name = str(author.get("name") or "tool")
        return ImportedMessage(
            node_id, None, "tool", text, created, tool_name=name, tool_call_id=None, files=files
        )
    return None


def _content(
    content: dict[str, Any], names: dict[str, str] | None = None
) -> tuple[str, list[FileRef]]:
    """Plain text and the images of a message's content (`names`: file id -> the
    uploaded file's name, from the message's `metadata.attachments`)."""
    files: list[FileRef] = []
    parts = content.get("parts")
    if isinstance(parts, list):
        texts: list[str] = []
        for part in parts:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                pointer = part.get("asset_pointer")
                if isinstance(pointer, str) and pointer:
                    file_id = pointer_id(pointer)
                    files.append(FileRef(pointer, (names or {}).get(file_id, file_id)))
                elif isinstance(part.get("text"), str):
                    texts.append(part["text"])
        return "\n".join(t for t in texts if t), files
    for key in ("text", "result"):
        if isinstance(content.get(key), str):
            return str(content[key]), files
    return text_of(content.get("parts")), files


def _attachments(metadata: dict[str, Any]) -> list[FileRef]:
    """Files the user uploaded with a message (`metadata.attachments`)."""
    out: list[FileRef] = []
    for attachment in metadata.get("attachments") or []:
        if isinstance(attachment, dict) and isinstance(attachment.get("id"), str):
            name = attachment.get("name")
            out.append(
                FileRef(attachment["id"], name if isinstance(name, str) else attachment["id"])
            )
    return out
