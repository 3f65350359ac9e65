"""Importing a file: recognise its format by content, convert each conversation,
write each in its own transaction (all of it or nothing of it), and say what
happened: imported, already present (the same source's conversation was imported
before), skipped (and why).

    summary = import_file(store, "conversations.json", progress=print)
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ..records import title_from
from ..store import Store
from . import chatgpt, claude, native, openwebui
from .model import ImportedConversation, ImportFormatError, paired_tool_calls
from .source import ImportInput, Limits

__all__ = ["FORMAT_NAMES", "AttachmentSink", "ImportSummary", "Progress", "detect", "import_file"]

#: Tried in this order: the first whose `looks_like` accepts a conversation.
_FORMATS: tuple[ModuleType, ...] = (native, chatgpt, claude, openwebui)
FORMAT_NAMES = {
    native.SOURCE: "desktop-agent export",
    chatgpt.SOURCE: "ChatGPT export",
    claude.SOURCE: "Claude export",
    openwebui.SOURCE: "Open WebUI export",
}

#: (bytes read, bytes in all, conversations done)
Progress = Callable[[int, int, int], None]
#: The seam for attachments: (conversation id, message id, file name, the file's bytes
#: from the archive), called inside the conversation's transaction. Until the
#: attachment store exists, files found are listed as not kept.
AttachmentSink = Callable[[str, str, str, bytes], None]


@dataclass
class ImportSummary:
    path: str
    format: str = ""
    imported: list[tuple[str, str]] = field(default_factory=list)  # (our id, title)
    already_present: list[tuple[str, str]] = field(default_factory=list)  # (our id, title)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (title or id, why)
    files_missing: list[str] = field(default_factory=list)  # referenced, not in the file
    files_not_kept: list[str] = field(default_factory=list)  # in the file, not stored yet
    files_kept: list[str] = field(default_factory=list)
    odd_members: list[str] = field(default_factory=list)  # archive names ignored
    #: why the import stopped before the end of the file (None: it read it all)
    error: str | None = None

    def lines(self) -> list[str]:
        """The summary as text, for a terminal or a dialog."""
        out = [
            f"{self.format or 'file'}: {len(self.imported)} imported, "
            f"{len(self.already_present)} already present, {len(self.skipped)} skipped"
        ]
        out += [f"  skipped {title!r}: {why}" for title, why in self.skipped[:50]]
        if len(self.skipped) > 50:
            out.append(f"  … and {len(self.skipped) - 50} more skipped")
        if self.files_missing:
            out.append(
                f"{len(self.files_missing)} images or files are referenced but not in the "
                f"export (marked in the messages): {_names(self.files_missing)}"
            )
        if self.files_not_kept:
            out.append(
                f"{len(self.files_not_kept)} images or files are in the export but attachments "
                f"are not kept yet (marked in the messages): {_names(self.files_not_kept)}"
            )
        if self.odd_members:
            out.append(
                f"ignored {len(self.odd_members)} archive entries with unsafe names: "
                f"{_names(self.odd_members)}"
            )
        if self.error:
            out.append(f"stopped: {self.error}")
        return out


def _names(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:5]) + (", …" if len(unique) > 5 else "")


def detect(item: Any) -> ModuleType | None:
    """The format module that reads this conversation, or None."""
    return next((f for f in _FORMATS if f.looks_like(item)), None)


def import_file(
    store: Store,
    path: Path | str,
    *,
    limits: Limits | None = None,
    progress: Progress | None = None,
    attachments: AttachmentSink | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import every conversation of `path`. Raises ImportFormatError when the file
    cannot be imported at all (nothing was written); a problem after some
    conversations were written ends the import with `summary.error` set."""
    summary = ImportSummary(str(path))
    with ImportInput(path, limits) as source:
        summary.odd_members = list(source.odd_members)
        first: ModuleType | None = None
        done = 0
        try:
            for _prefix, item in source.items():
                if should_stop is not None and should_stop():
                    summary.error = "stopped before the end of the file"
                    break
                kind = detect(item)
                if first is None:
                    if kind is None:
                        raise ImportFormatError(_unknown(item))
                    first = kind
                    summary.format = FORMAT_NAMES[kind.SOURCE]
                label = _label(item, done)
                done += 1
                if kind is None:
                    summary.skipped.append((label, f"not a conversation: {_shape(item)}"))
                else:
                    _import_one(store, kind, item, label, source, attachments, summary)
                if progress is not None:
                    progress(source.read, source.size, done)
        except ImportFormatError as exc:
            if not summary.imported and not summary.already_present:
                raise
            summary.error = f"{exc}; the conversations before that point were imported"
        if first is None and summary.error is None:
            raise ImportFormatError("the file has no conversations")
    if summary.skipped and not summary.imported and not summary.already_present:
        # (nothing could be imported: an error, not a summary)
        title, why = summary.skipped[0]
        if len(summary.skipped) == 1:
            raise ImportFormatError(why)
        raise ImportFormatError(
            f"none of its {len(summary.skipped)} conversations can be imported ({title!r}: {why})"
        )
    return summary


def _unknown(item: Any) -> str:
    if isinstance(item, dict) and "format" in item:
        return (
            f"not a desktop-agent conversation (format {str(item['format'])[:60]!r}) nor an "
            "export of ChatGPT, Claude or Open WebUI"
        )
    return (
        "not an export this version knows (a ChatGPT, Claude or Open WebUI export, or "
        f"desktop-agent's JSON); it starts with {_shape(item)}"
    )


def _import_one(
    store: Store,
    kind: ModuleType,
    item: Any,
    label: str,
    source: ImportInput,
    attachments: AttachmentSink | None,
    summary: ImportSummary,
) -> None:
    try:
        conv: ImportedConversation = kind.convert(item)
    except ImportFormatError as exc:
        summary.skipped.append((label, str(exc)))
        return
    if not conv.messages:
        summary.skipped.append((label, "it has no messages"))
        return
    try:
        found = write(store, conv, source, attachments, summary)
    except ImportFormatError as exc:
        summary.skipped.append((label, str(exc)))
        return
    if found[1]:
        summary.already_present.append((found[0], conv.title))
    else:
        summary.imported.append((found[0], store_title(store, found[0])))


def store_title(store: Store, conversation_id: str) -> str:
    conv = store.conversation(conversation_id, include_deleted=True)
    return conv.title if conv else ""


def _label(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for key in ("title", "name"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])[:80]
        conv = item.get("conversation")
        if isinstance(conv, dict) and isinstance(conv.get("title"), str) and conv["title"]:
            return str(conv["title"])[:80]
    return f"conversation {index + 1}"


def _shape(item: Any) -> str:
    if isinstance(item, dict):
        keys = ", ".join(repr(k) for k in list(item)[:6])
        return f"an object with {keys or 'no keys'}"
    return f"a JSON {type(item).__name__}"


def write(
    store: Store,
    conv: ImportedConversation,
    source: ImportInput | None = None,
    attachments: AttachmentSink | None = None,
    summary: ImportSummary | None = None,
) -> tuple[str, bool]:
    """Write one conversation in one transaction: (its id, True if it was there
    already — the same source and source id — and nothing was written)."""
    if conv.source != native.SOURCE:  # (ours are kept exactly as they were)
        conv.messages = paired_tool_calls(conv.messages)
    ids = {m.id: f"m-{uuid.uuid4().hex}" for m in conv.messages}
    times = [m.created_at for m in conv.messages if m.created_at]
    created = conv.created_at or (min(times) if times else time.time())
    updated = conv.updated_at or (max(times) if times else created)
    files: list[tuple[str, str, str]] = []  # (list, name, our message id) once committed
    with store.batch() as db:
        row = db.execute(
            "SELECT conversation_id FROM conversation_sources WHERE source = ? AND source_id = ?",
            (conv.source, conv.source_id),
        ).fetchone()
        if row is not None and conv.source_id:
            return str(row[0]), True
        title = conv.title or next(
            (title_from(m.content) for m in conv.messages if m.role == "user" and m.content), ""
        )
        conversation_id = store.create_conversation(
            title=title, model=conv.model, system_prompt=conv.system_prompt, created_at=created
        )
        rows = []
        when = created
        for m in conv.messages:
            when = m.created_at or when
            call_id = m.tool_call_id
            content = m.content
            for ref in m.files:
                state = _file(
                    conversation_id, ids[m.id], ref.pointer, ref.name, source, attachments
                )
                files.append((state, ref.name, ids[m.id]))
                content += f"{chr(10) * 2 if content else ''}[{_FILE_NOTE[state]}: {ref.name}]"
            rows.append(
                (
                    ids[m.id],
                    conversation_id,
                    ids[m.parent_id] if m.parent_id is not None else None,
                    m.role,
                    content,
                    m.reasoning,
                    json.dumps(m.tool_calls) if m.tool_calls else None,
                    call_id,
                    m.tool_name,
                    m.status,
                    m.error,
                    when,
                    when,
                )
            )
        db.executemany(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning, "
            "tool_calls, tool_call_id, tool_name, status, error, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "UPDATE conversations SET leaf_id = ?, updated_at = ? WHERE id = ?",
            (ids.get(conv.leaf_id) if conv.leaf_id else None, updated, conversation_id),
        )
        if conv.source_id:  # ("": a file of ours without ids; nothing to match it by)
            db.execute(
                "INSERT INTO conversation_sources (conversation_id, source, source_id, "
                "imported_at) VALUES (?, ?, ?, ?)",
                (conversation_id, conv.source, conv.source_id, time.time()),
            )
    if summary is not None:
        for state, name, _message in files:
            {"kept": summary.files_kept, "missing": summary.files_missing}.get(
                state, summary.files_not_kept
            ).append(name)
    return conversation_id, False


_FILE_NOTE = {
    "kept": "attached",
    "missing": "file not in the export",
    "not kept": "file not imported",
}


def _file(
    conversation_id: str,
    message_id: str,
    pointer: str,
    name: str,
    source: ImportInput | None,
    attachments: AttachmentSink | None,
) -> str:
    """kept | missing | not kept: what became of a file a message refers to."""
    try:
        found = source.file(pointer) if source is not None else None
    except ImportFormatError:
        return "missing"  # (there, but over the limits: not read)
    if found is None:
        return "missing"
    if attachments is None:
        return "not kept"
    attachments(conversation_id, message_id, found[0] if name == "image" else name, found[1])
    return "kept"
