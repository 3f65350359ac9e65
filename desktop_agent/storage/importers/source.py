"""The file being imported: plain JSON or a `.zip` (ChatGPT's and Claude's exports),
read as a stream of conversations with bounded memory.

* JSON is parsed with ijson, one conversation at a time: memory holds one
  conversation, whatever the size of the file. A single conversation over
  `Limits.conversation_bytes` of JSON is refused as it is read (the reader raises
  before the parser has more), so a 2 GB one-conversation file cannot fill memory.
* Archives are never extracted to disk: members are read by name. Names with `..`,
  absolute paths, drive letters or symlink members are ignored (listed as odd);
  a member that would unpack past the limits or far more than it is compressed
  (a zip bomb) is refused before it is read.
"""

from __future__ import annotations

import base64
import bisect
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

import ijson

from .model import ImportFormatError

__all__ = ["ConversationTooLarge", "ImportInput", "Limits", "pointer_id"]

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    #: one conversation's JSON at most (refused as it is read beyond this)
    conversation_bytes: int = 256 * MB
    #: the conversations file inside an archive, unpacked, at most
    member_bytes: int = 16 * 1024 * MB
    #: an image or file inside an archive, unpacked, at most (the app passes its
    #: attachment limit, `AttachmentLimits.file_bytes`)
    attachment_bytes: int = 64 * MB
    #: prepared attachments of one conversation held in memory before it is written;
    #: files past it are refused (named in the summary)
    conversation_attachment_bytes: int = 256 * MB
    #: attachments one message keeps, and their bytes as prepared (the app passes
    #: `AttachmentLimits.files` and `.message_bytes`: what one message may send)
    message_files: int = 20
    message_bytes: int = 40 * MB
    #: unpacked / packed size above which a member (over 1 MB) is taken for a zip bomb
    ratio: int = 200
    #: members an archive may have
    members: int = 200_000
    #: JSON nesting at most (ijson builds a prefix per level: a million levels is
    #: quadratic time and memory; real exports nest a few dozen)
    depth: int = 512


def _size(n: int) -> str:
    return f"{n / MB:,.0f} MB" if n >= 10 * MB else f"{n / 1024:,.0f} KB"


def pointer_id(pointer: str) -> str:
    """The file id of an export's reference: "file-abc" of "file-service://file-abc",
    "file_00ab" of "sediment://file_00ab?shared_conversation_id=…"."""
    return pointer.split("?", 1)[0].rsplit("://", 1)[-1].rsplit("/", 1)[-1]


class ConversationTooLarge(ImportFormatError):
    """One conversation is larger than the limit (raised while reading it)."""


class _Meter:
    """A binary stream that counts what was read, and refuses to read more than
    `limit` bytes past `mark` (the start of the conversation being parsed)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw, self.limit = raw, limit
        self.position = self.mark = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.position += len(data)
        if self.position - self.mark > self.limit:
            raise ConversationTooLarge(
                f"a conversation is larger than {self.limit // MB} MB of JSON; "
                "it was not imported (nothing after it either)"
            )
        return data

    def close(self) -> None:
        self._raw.close()


def _odd_name(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    return (
        is_link
        or name.startswith(("/", "\\"))
        or ".." in parts
        or (len(name) > 1 and name[1] == ":")
        or "\x00" in name
    )


class ImportInput:
    """A file to import (`with ImportInput(path) as source:`)."""

    def __init__(self, path: Path | str, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        self.odd_members: list[str] = []
        self._zip: zipfile.ZipFile | None = None
        self._member: zipfile.ZipInfo | None = None
        self._names: list[str] = []  # usable member base names, sorted
        self._by_name: dict[str, zipfile.ZipInfo] = {}
        self._meter: _Meter | None = None
        try:
            is_zip = zipfile.is_zipfile(self.path)
        except OSError as exc:
            raise ImportFormatError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        if is_zip:
            self._open_zip()
        elif not self.path.is_file():
            raise ImportFormatError(f"{self.path} is not a file")

    def __enter__(self) -> ImportInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._meter is not None:
            self._meter.close()
        if self._zip is not None:
            self._zip.close()

    # -- the archive -------------------------------------------------------------------

    def _open_zip(self) -> None:
        try:
            archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportFormatError(f"{self.path} is a damaged zip archive: {exc}") from exc
        self._zip = archive
        infos = archive.infolist()
        if len(infos) > self.limits.members:
            raise ImportFormatError(
                f"the archive has {len(infos):,} files, more than an export has "
                f"({self.limits.members:,}); not imported"
            )
        candidates: list[zipfile.ZipInfo] = []
        for info in infos:
            if info.is_dir():
                continue
            if _odd_name(info):
                self.odd_members.append(info.filename)
                continue
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            self._by_name.setdefault(base, info)
            if base == "conversations.json":
                candidates.append(info)
        self._names = sorted(self._by_name)
        if not candidates:
            raise ImportFormatError(
                "the archive has no conversations.json (is it a ChatGPT or Claude data export?)"
            )
        member = min(candidates, key=lambda i: i.filename.count("/"))
        self._check_size(member, self.limits.member_bytes)
        self._member = member

    def _check_size(self, info: zipfile.ZipInfo, limit: int) -> None:
        if info.file_size > limit:
            raise ImportFormatError(
                f"{info.filename} would unpack to {_size(info.file_size)}, "
                f"more than the limit of {_size(limit)}; not imported"
            )
        if info.file_size > MB and info.file_size > self.limits.ratio * max(info.compress_size, 1):
            raise ImportFormatError(
                f"{info.filename} would unpack to {info.file_size / MB:,.0f} MB from "
                f"{info.compress_size:,} bytes: a zip bomb, not a data export; not imported"
            )

    def file(self, pointer: str) -> tuple[str, bytes] | None:
        """An image or file an export refers to, from the archive (or a data: URL):
        (name, bytes), or None when it is not there. Raises ImportFormatError when it
        is there but over the limits."""
        if pointer.startswith("data:"):
            head, _, body = pointer.partition(",")
            kind, _, subtype = head[5:].split(";", 1)[0].partition("/")
            stem = "image" if kind in ("image", "") else "file"
            name = f"{stem}.{subtype}" if subtype.isalnum() else stem
            if len(body) * 3 // 4 > self.limits.attachment_bytes:
                raise ImportFormatError("an embedded file is over the size limit")
            try:
                data = (
                    base64.b64decode(body, validate=False) if ";base64" in head else body.encode()
                )
            except ValueError:
                return None
            return name, data
        if self._zip is None:
            return None
        key = pointer_id(pointer)
        if not key:
            return None
        # "file-abc" is stored as "file-abc-photo.jpg" or "file-abc.png" (not "file-abcd...")
        i = bisect.bisect_left(self._names, key)
        while i < len(self._names) and self._names[i].startswith(key):
            rest = self._names[i][len(key) :]
            if not rest or rest[0] in "-_.":
                break
            i += 1
        else:
            return None
        info = self._by_name[self._names[i]]
        self._check_size(info, self.limits.attachment_bytes)
        with self._zip.open(info) as member:
            data = member.read(self.limits.attachment_bytes + 1)
        if len(data) > self.limits.attachment_bytes:
            raise ImportFormatError(f"{info.filename} is over the size limit")
        return self._names[i], data

    # -- the conversations ------------------------------------------------------------

    @property
    def size(self) -> int:
        """Bytes of JSON to read (for progress)."""
        if self._member is not None:
            return self._member.file_size
        return self.path.stat().st_size

    @property
    def read(self) -> int:
        """Bytes of JSON read so far."""
        return self._meter.position if self._meter is not None else 0

    def _open(self) -> _Meter:
        if self._meter is not None:
            self._meter.close()
        raw: IO[bytes]
        if self._zip is not None and self._member is not None:
            raw = self._zip.open(self._member)
        else:
            raw = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        self._meter = _Meter(raw, self.limits.conversation_bytes)
        return self._meter

    def items(self) -> Iterator[tuple[str, Any]]:
        """The file's conversations as parsed JSON, one at a time, each with the
        prefix it was found under ("item", "conversations.item" or "" for a file that
        is one conversation). Raises ImportFormatError on JSON that is not
        well-formed or ends early."""
        if self.size == 0:
            raise ImportFormatError("the file is empty")
        try:
            prefix = self._shape()
            meter = self._open()
            for item in ijson.items(ijson.parse(self._checked(meter)), prefix):
                yield prefix, item
                meter.mark = meter.position
        except ijson.JSONError as exc:
            raise ImportFormatError(_json_problem(exc, self.read, self.size)) from exc
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"the file is not UTF-8 text: {exc}") from exc
        except (zipfile.BadZipFile, EOFError) as exc:
            raise ImportFormatError(f"the archive is damaged: {exc}") from exc

    def _checked(self, raw: _Meter) -> Iterator[tuple[str, Any]]:
        """ijson's unprefixed events of `raw`; ImportFormatError once the JSON nests
        deeper than `limits.depth` (ijson builds a prefix per level: a million levels
        would take minutes and gigabytes)."""
        depth = 0
        for event, value in ijson.basic_parse(raw, buf_size=16 * 1024, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > self.limits.depth:
                    raise ImportFormatError(
                        f"the JSON is nested more than {self.limits.depth} levels deep:"
                        " not a data export"
                    )
            elif event in ("end_map", "end_array"):
                depth -= 1
            yield event, value

    def _shape(self) -> str:
        """Where the conversations are: the top-level array's items, our `export
        --all` object's `conversations`, or the top-level object itself."""
        # (unprefixed events, depth-checked: ijson parses a whole buffer at a time, and
        # prefixed events of 16,000 nested "[" build 16,000 ever longer prefixes)
        events = self._checked(self._open())
        try:
            event, _value = next(events)
            if event == "start_array":
                return "item"
            if event != "start_map":
                raise ImportFormatError(
                    "the file is JSON but not an export: neither a list nor an object"
                )
            event, key = next(events)
            if event == "map_key" and key == "format":
                _event, value = next(events)
                if value == "desktop-agent.conversations":
                    return "conversations.item"
            return ""
        except StopIteration:
            raise ImportFormatError("the file is empty") from None


def _json_problem(exc: Exception, read: int, size: int) -> str:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "premature EOF" in detail or (read >= size and "incomplete" in detail.lower()):
        return f"the file ends in the middle of the JSON (truncated at {size:,} bytes?)"
    return f"the file is not valid JSON (near byte {min(read, size):,}: {detail})"
