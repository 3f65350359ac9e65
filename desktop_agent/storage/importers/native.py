"""Our own JSON: one conversation (`desktop-agent export ID --format json`) or many
(`desktop-agent export --all --format json`: `{"format":
"desktop-agent.conversations", "conversations": [{conversation, messages}, ...]}`).
Every field is kept: versions, reasoning, tool calls and results, statuses, and
attachments (`"attachments": {sha256: {mime, data}}` beside the messages, each
message's `attachments` naming them), stored exactly as they were after their bytes
are checked against their sha256."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from ..export import FORMAT, FORMAT_VERSION
from .model import (
    FileRef,
    ImportedConversation,
    ImportedMessage,
    ImportFormatError,
    Node,
    kept_tree,
    optional_str,
)

__all__ = ["FORMAT_ALL", "SOURCE", "convert", "looks_like"]

SOURCE = "desktop-agent"
#: The format of `export --all`: its conversations are items of this form.
FORMAT_ALL = "desktop-agent.conversations"
_ROLES = ("user", "assistant", "tool", "system")


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and (
        item.get("format") == FORMAT
        or (isinstance(item.get("conversation"), dict) and isinstance(item.get("messages"), list))
    )


def convert(item: dict[str, Any]) -> ImportedConversation:
    if item.get("format") == FORMAT and item.get("version") != FORMAT_VERSION:
        raise ImportFormatError(f"unsupported conversation format version {item.get('version')!r}")
    conv, raw_messages = item.get("conversation"), item.get("messages")
    if not isinstance(conv, dict) or not isinstance(raw_messages, list):
        raise ImportFormatError("the file has no conversation or no messages list")
    source_id = conv.get("id")
    if not isinstance(source_id, str):
        source_id = ""  # (hand-made files: imported, just not matched on a second import)
    blobs = _blobs(item.get("attachments"))
    nodes: list[Node] = []
    for position, raw in enumerate(raw_messages):
        if not isinstance(raw, dict) or raw.get("role") not in _ROLES:
            raise ImportFormatError(f"a message has no valid role: {str(raw)[:80]}")
        id_ = raw.get("id")
        if not isinstance(id_, (str, int)) or isinstance(id_, bool):
            raise ImportFormatError(f"a message has no id: {str(raw)[:80]}")
        parent = raw.get("parent_id")
        calls = raw.get("tool_calls")
        message = ImportedMessage(
            str(id_),
            None,
            str(raw["role"]),
            str(raw.get("content") or ""),
            _number(raw.get("created_at")),
            reasoning=str(raw.get("reasoning") or ""),
            tool_calls=calls if isinstance(calls, list) and calls else None,
            tool_call_id=optional_str(raw.get("tool_call_id")),
            tool_name=optional_str(raw.get("tool_name")),
            status=str(raw.get("status") or "complete"),
            error=optional_str(raw.get("error")),
            files=_files(raw.get("attachments"), blobs),
        )
        nodes.append(Node(str(id_), optional_str(parent), message, float(position)))
    leaf = conv.get("leaf_id")
    messages, _shown = kept_tree(nodes, optional_str(leaf))
    return ImportedConversation(
        source=SOURCE,
        source_id=source_id,
        title=str(conv.get("title") or ""),
        created_at=_number(conv.get("created_at")),
        updated_at=_number(conv.get("updated_at")),
        messages=messages,
        # (an empty path is kept empty: the next message starts a new version)
        leaf_id=_shown if leaf is not None else None,
        model=optional_str(conv.get("model")),
        system_prompt=optional_str(conv.get("system_prompt")),
    )


def _blobs(raw: Any) -> dict[str, tuple[bytes, str]]:
    """sha256 -> (bytes, MIME type); a damaged or forged entry refuses the
    conversation (nothing is stored under a name it does not have)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ImportFormatError("its attachments are not an object")
    found: dict[str, tuple[bytes, str]] = {}
    for digest, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
            raise ImportFormatError(f"attachment {str(digest)[:16]} has no data")
        try:
            data = base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError):
            raise ImportFormatError(f"attachment {str(digest)[:16]} is not valid base64") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ImportFormatError(
                f"attachment {str(digest)[:16]} does not match its sha256 (damaged file?)"
            )
        found[str(digest)] = (data, str(entry.get("mime") or "application/octet-stream"))
    return found


def _files(refs: Any, blobs: dict[str, tuple[bytes, str]]) -> list[FileRef]:
    if refs is None:
        return []
    if not isinstance(refs, list):
        raise ImportFormatError("a message's attachments are not a list")
    out = []
    for ref in refs:
        digest = ref.get("sha256") if isinstance(ref, dict) else None
        if not isinstance(digest, str) or ref.get("kind") not in ("image", "document"):
            raise ImportFormatError(f"an attachment is not valid: {str(ref)[:80]}")
        name = str(ref.get("name") or "file")
        if digest not in blobs:  # (export --all before attachments were written with it)
            out.append(FileRef(f"sha256:{digest}", name))
            continue
        data, mime = blobs[digest]
        out.append(FileRef(f"sha256:{digest}", name, stored=(data, mime, str(ref["kind"]))))
    return out


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
