"""A conversation as Markdown (what is shown) or JSON (everything, every version),
and JSON back into the store. Nothing secret is in either: API keys never reach
the store."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sqlite3
import time
import uuid
from typing import Any

from .store import Store, StoreError

__all__ = ["FORMAT", "ConversationFormatError", "dumps", "from_json", "to_json", "to_markdown"]

FORMAT = "desktop-agent.conversation"
FORMAT_VERSION = 1
_FIELDS = (
    "id",
    "parent_id",
    "role",
    "content",
    "reasoning",
    "tool_calls",
    "tool_call_id",
    "tool_name",
    "status",
    "error",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
)


class ConversationFormatError(ValueError):
    """The file is not a conversation this version can import (the message says why)."""


def to_json(store: Store, conversation_id: str) -> dict[str, Any]:
    conv = store.conversation(conversation_id, include_deleted=True)
    if conv is None:
        raise StoreError(f"No conversation {conversation_id!r}.")
    stored = store.messages(conversation_id)
    attached = store.attachments_of(m.id for m in stored)
    messages: list[dict[str, Any]] = []
    blobs: dict[str, dict[str, str]] = {}
    for m in stored:
        raw = {name: getattr(m, name) for name in _FIELDS}
        if m.id in attached:
            raw["attachments"] = [
                {"sha256": a["sha256"], "name": a["name"], "kind": a["kind"]}
                for a in attached[m.id]
            ]
            for a in attached[m.id]:
                found = store.blob(a["sha256"])
                if found is not None and a["sha256"] not in blobs:
                    blobs[a["sha256"]] = {
                        "mime": found[1],
                        "data": base64.b64encode(found[0]).decode("ascii"),
                    }
        messages.append(raw)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": time.time(),
        "conversation": {
            "id": conv.id,
            "title": conv.title,
            "created_at": conv.created_at,
            "updated_at": conv.updated_at,
            "model": conv.model,
            "system_prompt": conv.system_prompt,
            "leaf_id": conv.leaf_id,
        },
        "messages": messages,
        # sha256 -> {"mime", "data" (base64)}: every attached file, once.
        "attachments": blobs,
    }


def to_markdown(store: Store, conversation_id: str) -> str:
    conv = store.conversation(conversation_id, include_deleted=True)
    if conv is None:
        raise StoreError(f"No conversation {conversation_id!r}.")
    lines = [f"# {conv.title or 'Untitled'}", ""]
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(conv.created_at))
    lines += [f"*{stamp}{' · ' + conv.model if conv.model else ''}*", ""]
    path = store.path(conversation_id)
    attached = store.attachments_of(m.id for m in path if m.role == "user")
    for m in path:
        if m.role == "user":
            lines += ["## You", "", m.content, ""]
            for a in attached.get(m.id, []):
                name = a["name"].replace("`", "'")
                lines += [f"*Attached {a['kind']}:* `{name}` ({a['mime']}, {a['size']:,} bytes)"]
            if m.id in attached:
                lines.append("")
        elif m.role == "assistant":
            lines += ["## Assistant", ""]
            if m.reasoning:
                quoted = "\n".join(f"> {line}" for line in m.reasoning.splitlines())
                lines += ["> *Reasoning*", ">", quoted, ""]
            if m.content:
                lines += [m.content, ""]
            for call in m.tool_calls or []:
                lines += [f"**Tool call** `{call['name']}`", "", "```json", call["arguments"]]
                lines += ["```", ""]
            if m.status != "complete":
                lines += [f"*({m.status})*", ""]
        elif m.role == "tool":
            fence = "````" if "```" in m.content else "```"
            lines += [f"**Result** of `{m.tool_name or 'tool'}`", "", fence, m.content, fence, ""]
        if m.error:
            lines += [f"**Error:** {m.error}", ""]
    return "\n".join(lines).rstrip() + "\n"


def from_json(store: Store, data: Any) -> str:
    """Import an exported conversation as a new one (new ids); returns its id."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConversationFormatError(
            f"not a desktop-agent conversation (expected format {FORMAT!r})"
        )
    if data.get("version") != FORMAT_VERSION:
        raise ConversationFormatError(
            f"unsupported conversation format version {data.get('version')!r}"
        )
    conv = data.get("conversation")
    messages = data.get("messages")
    if not isinstance(conv, dict) or not isinstance(messages, list):
        raise ConversationFormatError("the file has no conversation or no messages list")
    _check_tree(messages)  # before anything is written
    blobs = _blobs(data.get("attachments"))
    ids = {m["id"]: f"m-{uuid.uuid4().hex}" for m in messages}
    try:
        with store.batch():  # all or nothing
            conversation_id = store.create_conversation(
                title=str(conv.get("title") or ""),
                model=conv.get("model"),
                system_prompt=conv.get("system_prompt"),
                created_at=float(conv.get("created_at") or time.time()),
            )
            for raw in messages:
                _import_message(store, conversation_id, raw, ids)
                refs = raw.get("attachments")
                if refs:
                    _import_attachments(store, ids[raw.get("id")], refs, blobs)
            leaf = conv.get("leaf_id")
            store.set_leaf(conversation_id, ids.get(leaf) if leaf else None)
    except (KeyError, TypeError, ValueError, sqlite3.IntegrityError) as exc:
        if isinstance(exc, ConversationFormatError):
            raise
        raise ConversationFormatError(f"the file is damaged: {exc}") from exc
    return conversation_id


def _blobs(raw: Any) -> dict[str, tuple[bytes, str]]:
    """The file's attachments, each checked against its sha256 (a damaged or forged
    entry is refused, not stored under a name it does not have)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConversationFormatError("the file's attachments are not an object")
    found: dict[str, tuple[bytes, str]] = {}
    for digest, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
            raise ConversationFormatError(f"attachment {str(digest)[:16]} has no data")
        try:
            data = base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError):
            raise ConversationFormatError(
                f"attachment {str(digest)[:16]} is not valid base64"
            ) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ConversationFormatError(
                f"attachment {str(digest)[:16]} does not match its sha256 (damaged file?)"
            )
        found[digest] = (data, str(entry.get("mime") or "application/octet-stream"))
    return found


def _import_attachments(
    store: Store, message_id: str, refs: Any, blobs: dict[str, tuple[bytes, str]]
) -> None:
    if not isinstance(refs, list):
        raise ConversationFormatError(f"message {message_id}: attachments are not a list")
    clean = []
    for ref in refs:
        digest = ref.get("sha256") if isinstance(ref, dict) else None
        if digest not in blobs or ref.get("kind") not in ("image", "document"):
            raise ConversationFormatError(f"an attachment is missing from the file: {ref!r:.80}")
        data, mime = blobs[digest]
        store.put_blob(data, mime)
        clean.append(
            {"sha256": digest, "name": str(ref.get("name") or "file"), "kind": ref["kind"]}
        )
    store.link_attachments(message_id, clean)


def _check_tree(messages: list[Any]) -> None:
    """The messages must form a forest: each has its own id, and following parents
    from any of them ends at a root (no parent) without meeting a message twice."""
    parents: dict[str | int, Any] = {}
    for raw in messages:
        if not isinstance(raw, dict):
            raise ConversationFormatError(f"a message is not an object: {str(raw)[:80]}")
        id_ = raw.get("id")
        if not isinstance(id_, (str, int)) or isinstance(id_, bool):
            raise ConversationFormatError(f"a message has no id: {str(raw)[:80]}")
        if id_ in parents:
            raise ConversationFormatError(f"message {id_!r} appears twice")
        parents[id_] = raw.get("parent_id")
    for id_, parent in parents.items():
        if parent is None:
            continue
        if parent == id_:
            raise ConversationFormatError(f"message {id_!r} is its own parent")
        if not isinstance(parent, (str, int)) or parent not in parents:
            raise ConversationFormatError(f"message {id_!r} answers an unknown message")
    done: set[str | int] = set()  # known to end at a root
    for start in parents:
        seen: dict[str | int, None] = {}  # this walk, in order
        node: Any = start
        while node is not None and node not in done:
            if node in seen:
                loop = list(seen)[list(seen).index(node) :]
                shown = ", ".join(repr(m) for m in loop[:5]) + (", …" if len(loop) > 5 else "")
                raise ConversationFormatError(
                    f"messages {shown} form a cycle (each one answers the next)"
                )
            seen[node] = None
            node = parents[node]
        done.update(seen)


def _import_message(store: Store, conversation_id: str, raw: Any, ids: dict[Any, str]) -> None:
    if not isinstance(raw, dict) or raw.get("role") not in ("user", "assistant", "tool", "system"):
        raise ConversationFormatError(f"a message has no valid role: {str(raw)[:80]}")
    parent = raw.get("parent_id")
    if parent is not None and parent not in ids:
        raise ConversationFormatError(f"message {raw.get('id')!r} answers an unknown message")
    store.add_message(
        conversation_id,
        raw["role"],
        str(raw.get("content") or ""),
        message_id=ids[raw.get("id")],
        parent_id=ids[parent] if parent is not None else None,
        reasoning=str(raw.get("reasoning") or ""),
        tool_calls=raw.get("tool_calls"),
        tool_call_id=raw.get("tool_call_id"),
        tool_name=raw.get("tool_name"),
        status=str(raw.get("status") or "complete"),
        error=raw.get("error"),
        created_at=raw.get("created_at"),
    )


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
