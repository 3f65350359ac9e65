"""The images and files an export refers to, kept as attachments of the user
message that carried them.

Before a conversation's transaction, `gather` finds each file (an archive member,
a `data:` URL, or the text the source extracted from it) and has it prepared by
the caller's `Preparer` (the app passes the composer's preparation: images turned
upright, metadata stripped, scaled; PDFs and text files as their text), so the
slow part holds no lock. Inside the transaction `store_files` writes the blobs
(content-addressed: the same bytes are stored once, however often imported) and
links them to the messages, with the connection-level functions of
`storage.attachments`.

What becomes of each file, as the summary lists it:

* kept: prepared and stored (the window shows it, the model gets it again);
* missing: referenced, not in the export (a marker in the message says so);
* refused: there, but over a limit, damaged, or not a file the app can read (a
  decompression bomb...); the reason names the file, the import goes on;
* in an answer: an image the assistant or a tool made (DALL·E...); not kept, since
  only a user message's attachments are shown and sent;
* not kept: no preparer was given (storage used without the app).
"""

from __future__ import annotations

import sqlite3
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from .. import attachments as blobs
from .model import FileRef, ImportedConversation, ImportedMessage, ImportFormatError
from .source import ImportInput, Limits, pointer_id

__all__ = ["FileOutcome", "Prepared", "Preparer", "content_with_notes", "gather", "store_files"]


class Prepared(Protocol):
    """An attachment as stored and sent (the app's `Attachment` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...  # image | document
    @property
    def mime(self) -> str: ...
    @property
    def data(self) -> bytes: ...


#: (file name, its bytes, True when the bytes are text the source extracted from the
#: file) -> the attachment; raises ValueError (naming the file, saying why) to refuse it.
Preparer = Callable[[str, bytes, bool], Prepared]


@dataclass(slots=True)
class FileOutcome:
    message_id: str  # the source's message id
    ref: FileRef
    state: str  # kept | missing | refused | answer | not kept
    name: str
    why: str = ""
    prepared: Prepared | None = None


def gather(
    conv: ImportedConversation,
    source: ImportInput | None,
    prepare: Preparer | None,
    limits: Limits,
) -> list[FileOutcome]:
    """What becomes of every file the conversation refers to. Prepared ones hold
    their bytes: at most `limits.conversation_attachment_bytes` of them, and per
    message `limits.message_files` files and `limits.message_bytes` bytes (what one
    message may send); the rest are refused."""
    out: list[FileOutcome] = []
    held = 0
    for message in conv.messages:
        files = size = 0
        for ref in message.files:
            outcome = _one(message, ref, source, prepare)
            prepared = outcome.prepared
            if prepared is not None:
                why = ""
                if held + len(prepared.data) > limits.conversation_attachment_bytes:
                    why = (
                        "this conversation's attachments come to more than "
                        f"{_size(limits.conversation_attachment_bytes)} (the limit held in "
                        "memory at once); not imported"
                    )
                elif files + 1 > limits.message_files:
                    why = f"one message keeps up to {limits.message_files} attachments"
                elif size + len(prepared.data) > limits.message_bytes:
                    why = f"one message keeps up to {_size(limits.message_bytes)} of attachments"
                if why:
                    outcome.state, outcome.prepared = "refused", None
                    outcome.why = f"{outcome.name}: {why}"
                else:
                    held += len(prepared.data)
                    files += 1
                    size += len(prepared.data)
            out.append(outcome)
    return out


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB" if n >= 10 * 1024 * 1024 else f"{n / 1024:,.0f} KB"


def _one(
    message: ImportedMessage,
    ref: FileRef,
    source: ImportInput | None,
    prepare: Preparer | None,
) -> FileOutcome:
    outcome = FileOutcome(message.id, ref, "missing", ref.name)
    if ref.stored is not None:  # (our own export: kept exactly as it was)
        data, mime, kind = ref.stored
        outcome.state, outcome.prepared = "kept", _Stored(ref.name, kind, mime, data)
        return outcome
    try:
        found = source.file(ref.pointer) if source is not None else None
    except ImportFormatError as exc:
        outcome.state, outcome.why = "refused", str(exc)
        return outcome
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        outcome.state, outcome.why = "refused", f"{ref.name} is damaged in the archive ({exc})"
        return outcome
    if found is not None:
        member, data = found
        # (a bare id or "image" says less than the archive's name: "file-abc-cat.png")
        if ref.name in ("image", pointer_id(ref.pointer)):
            outcome.name = member
        extracted = False
    elif ref.text is not None:
        data, extracted = ref.text.encode("utf-8"), True
    else:
        return outcome
    if message.role != "user":
        outcome.state = "answer"
        return outcome
    if prepare is None:
        outcome.state = "not kept"
        return outcome
    try:
        outcome.prepared = prepare(outcome.name, data, extracted)
    except ValueError as exc:
        outcome.state, outcome.why = "refused", str(exc)
        return outcome
    outcome.state = "kept"
    return outcome


@dataclass(frozen=True, slots=True)
class _Stored:
    name: str
    kind: str
    mime: str
    data: bytes


_NOTE = {
    "missing": "file not in the export",
    "refused": "file not imported",
    "answer": "image not imported",
    "not kept": "file not imported",
}


def content_with_notes(content: str, outcomes: Iterable[FileOutcome]) -> str:
    """The message's text with a line for each file not kept; a file not kept whose
    text the source extracted keeps that text in the message (nothing is lost)."""
    lines = [content] if content else []
    for outcome in outcomes:
        if outcome.state == "kept":
            continue  # (shown as an attachment)
        if outcome.ref.text is not None:
            lines.append(f"[{outcome.name}]\n{outcome.ref.text}")
        else:
            lines.append(f"[{_NOTE[outcome.state]}: {outcome.name}]")
    return "\n\n".join(lines)


def store_files(
    db: sqlite3.Connection, outcomes: Iterable[FileOutcome], ids: dict[str, str]
) -> None:
    """Inside the conversation's transaction: store the kept files' bytes (once per
    content) and link them to our messages, in order."""
    refs: dict[str, list[dict[str, str]]] = {}
    for outcome in outcomes:
        prepared = outcome.prepared
        if outcome.state != "kept" or prepared is None:
            continue
        digest = blobs.put(db, prepared.data, prepared.mime)
        refs.setdefault(ids[outcome.message_id], []).append(
            {"sha256": digest, "name": prepared.name, "kind": prepared.kind}
        )
    for message_id, linked in refs.items():
        blobs.link(db, message_id, linked)
