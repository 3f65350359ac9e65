"""Importing a file: recognise its format by content, convert each conversation,
write each in its own transaction (all of it or nothing of it, its attachments
included), and say what happened: imported, already present (the same source's
conversation was imported before), skipped (and why), and what became of the
images and files the export refers to (kept, missing, refused and why).

    summary = import_file(store, "conversations.json", progress=print, prepare=prepare)

`prepare` is the app's preparation of an attachment (`app.attachments.for_import`):
storage does not know how images are scaled or PDFs read; without it, files are
found and listed but not kept.
"""

from __future__ import annotations

import json
import sqlite3
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
from .files import FileOutcome, Preparer, content_with_notes, gather, store_files
from .model import ImportedConversation, ImportFormatError, paired_tool_calls
from .source import ImportInput, Limits

__all__ = ["FORMAT_NAMES", "ImportSummary", "Preparer", "Progress", "detect", "import_file"]

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


@dataclass
class ImportSummary:
    path: str
    format: str = ""
    imported: list[tuple[str, str]] = field(default_factory=list)  # (our id, title)
    already_present: list[tuple[str, str]] = field(default_factory=list)  # (our id, title)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (title or id, why)
    files_kept: list[str] = field(default_factory=list)
    files_missing: list[str] = field(default_factory=list)  # referenced, not in the file
    files_refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    files_in_answers: list[str] = field(default_factory=list)  # made by the model: not kept
    files_not_kept: list[str] = field(default_factory=list)  # in the file; no preparer given
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
        if self.files_kept:
            out.append(f"{_files(len(self.files_kept))} kept as attachments")
        if self.files_missing:
            out.append(
                f"{_files(len(self.files_missing))} missing: referenced but not in the export "
                f"(marked in the messages): {_names(self.files_missing)}"
            )
        if self.files_refused:
            out.append(f"{_files(len(self.files_refused))} refused (marked in the messages):")
            out += [f"  {why}" for _name, why in self.files_refused[:20]]
            if len(self.files_refused) > 20:
                out.append(f"  … and {len(self.files_refused) - 20} more refused")
        if self.files_in_answers:
            out.append(
                f"{_files(len(self.files_in_answers), 'image')} made by the assistant or a tool "
                "not kept (only your own messages' attachments are): "
                + _names(self.files_in_answers)
            )
        if self.files_not_kept:
            out.append(
                f"{_files(len(self.files_not_kept))} in the export not kept (marked in the "
                f"messages): {_names(self.files_not_kept)}"
            )
        if self.odd_members:
            out.append(
                f"ignored {len(self.odd_members)} archive entries with unsafe names: "
                f"{_names(self.odd_members)}"
            )
        if self.error:
            out.append(f"stopped: {self.error}")
        return out

    def count(self, outcomes: list[FileOutcome]) -> None:
        """Add what became of a written conversation's files."""
        for o in outcomes:
            if o.state == "refused":
                self.files_refused.append(
                    (o.name, o.why if o.name in o.why else f"{o.name}: {o.why}")
                )
            else:
                {
                    "kept": self.files_kept,
                    "missing": self.files_missing,
                    "answer": self.files_in_answers,
                }.get(o.state, self.files_not_kept).append(o.name)


def _files(n: int, what: str = "image or file") -> str:
    """ "1 image or file", "2 images or files"."""
    if n == 1:
        return f"1 {what}"
    return f"{n} " + what.replace("image", "images").replace("file", "files")


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
    prepare: Preparer | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ImportSummary:
    """Import every conversation of `path`. Raises ImportFormatError when the file
    cannot be imported at all (nothing was written); a problem after some
    conversations were written ends the import with `summary.error` set.
    `prepare` makes the files an export holds attachments (see `files`)."""
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
                    _import_one(store, kind, item, label, source, prepare, summary)
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
    prepare: Preparer | None,
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
        found = write(store, conv, source, prepare, summary)
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


def _present(db: sqlite3.Connection, conv: ImportedConversation) -> str | None:
    if not conv.source_id:  # ("": a file of ours without ids; nothing to match it by)
        return None
    row = db.execute(
        "SELECT conversation_id FROM conversation_sources WHERE source = ? AND source_id = ?",
        (conv.source, conv.source_id),
    ).fetchone()
    return str(row[0]) if row is not None else None


def write(
    store: Store,
    conv: ImportedConversation,
    source: ImportInput | None = None,
    prepare: Preparer | None = None,
    summary: ImportSummary | None = None,
) -> tuple[str, bool]:
    """Write one conversation in one transaction: (its id, True if it was there
    already — the same source and source id — and nothing was written). Its files
    are prepared first (no lock held meanwhile; not at all when it is there already)."""
    if conv.source != native.SOURCE:  # (ours are kept exactly as they were)
        conv.messages = paired_tool_calls(conv.messages)
    with store.batch() as db:
        present = _present(db, conv)
    if present is not None:
        return present, True
    limits = source.limits if source is not None else Limits()
    outcomes = gather(conv, source, prepare, limits)
    by_message: dict[str, list[FileOutcome]] = {}
    for outcome in outcomes:
        by_message.setdefault(outcome.message_id, []).append(outcome)
    ids = {m.id: f"m-{uuid.uuid4().hex}" for m in conv.messages}
    times = [m.created_at for m in conv.messages if m.created_at]
    created = conv.created_at or (min(times) if times else time.time())
    updated = conv.updated_at or (max(times) if times else created)
    with store.batch() as db:
        present = _present(db, conv)  # (another import may have written it meanwhile)
        if present is not None:
            return present, True
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
            rows.append(
                (
                    ids[m.id],
                    conversation_id,
                    ids[m.parent_id] if m.parent_id is not None else None,
                    m.role,
                    content_with_notes(m.content, by_message.get(m.id, ())),
                    m.reasoning,
                    json.dumps(m.tool_calls) if m.tool_calls else None,
                    m.tool_call_id,
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
        store_files(db, outcomes, ids)
        db.execute(
            "UPDATE conversations SET leaf_id = ?, updated_at = ? WHERE id = ?",
            (ids.get(conv.leaf_id) if conv.leaf_id else None, updated, conversation_id),
        )
        if conv.source_id:
            db.execute(
                "INSERT INTO conversation_sources (conversation_id, source, source_id, "
                "imported_at) VALUES (?, ?, ?, ?)",
                (conversation_id, conv.source, conv.source_id, time.time()),
            )
    if summary is not None:
        summary.count(outcomes)
    return conversation_id, False
