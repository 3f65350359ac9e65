"""Files and images a user attaches to a message, prepared for the model (no Qt).

`prepare(name, data, limits)` turns a file's bytes into an `Attachment`:

* images (PNG, JPEG, WebP, GIF: its first frame): the EXIF orientation applied,
  every metadata block (EXIF with GPS, XMP, ICC comments...) dropped, downscaled so
  the long side is at most `limits.image_side` and re-encoded; the original bytes
  are kept only when they are already small enough, carry no metadata and need no
  turning (re-encoding would not save anything). Pixel counts are checked from the
  header before any decoding (decompression bombs).
* PDFs: the text of each page (pypdf), with a note for pages without a text layer.
* text and code files: decoded (charset-normalizer finds the encoding); binary
  files are refused with the reason.

Long text is cut at `limits.text_chars` with a visible note of what was cut. Every
failure is an `AttachmentError` whose message names the file.

`Attachment.data` is what the model is sent (the encoded image, or the UTF-8 text
part); it is stored once by its sha256 (`storage.attachments`).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "Attachment",
    "AttachmentError",
    "AttachmentLimits",
    "check_message",
    "for_import",
    "human_size",
    "prepare",
    "prepare_file",
]

IMAGE_MIMES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


class AttachmentError(ValueError):
    """A file that cannot be attached; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """Limits of what is attached (the settings' "attachments" section).

    Defaults fit the common providers: OpenAI takes images up to 20 MB and
    ~2048 px (it scales larger ones down itself), Anthropic 5 MB per image at
    ~1568 px; a 2048 px JPEG at quality 85 is typically 0.3-1.5 MB.
    """

    #: The longest side of an image as sent, in pixels.
    image_side: int = 2048
    #: One file as read from disk (a 50 MB photo is fine, a 2 GB video is not).
    file_bytes: int = 64 * 1024 * 1024
    #: One image as sent (after downscaling and encoding).
    image_bytes: int = 20 * 1024 * 1024
    #: The text of one document, in characters (~50 k tokens); the rest is cut.
    text_chars: int = 200_000
    #: Everything attached to one message, as sent.
    message_bytes: int = 40 * 1024 * 1024
    #: Files per message.
    files: int = 20
    #: Decoded pixels an image may have (width * height) before it is refused.
    max_pixels: int = 120_000_000
    jpeg_quality: int = 85

    @classmethod
    def from_settings(cls, saved: dict[str, Any]) -> AttachmentLimits:
        """The limits of the settings' "attachments" section (defaults for the rest)."""
        section = saved.get("attachments")
        if not isinstance(section, dict):
            return cls()
        values: dict[str, int] = {}
        for key in cls.__dataclass_fields__:
            value = section.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                values[key] = value
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One prepared attachment.

    kind: "image" or "document". data: what the model gets (image bytes, or the
    document's text part as UTF-8). mime: of `data` ("image/jpeg", "text/plain").
    note: what was changed on the way (downscaled, cut...), for the user.
    """

    name: str
    kind: str
    mime: str
    data: bytes
    original_size: int
    note: str = ""
    width: int = 0
    height: int = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def ref(self) -> dict[str, Any]:
        """What a message keeps of it (the bytes are stored apart, by sha256)."""
        return {
            "sha256": self.sha256,
            "name": self.name,
            "kind": self.kind,
            "mime": self.mime,
            "size": self.size,
        }

    def part(self) -> dict[str, Any]:
        """The content part sent to the model (OpenAI shape), with the app's `attachment`
        reference (dropped on the wire)."""
        from ..storage.attachments import content_part

        return content_part(self.ref(), self.data)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def check_message(attachments: Sequence[Attachment], limits: AttachmentLimits | None) -> None:
    """Raise `AttachmentError` when one message would carry too much."""
    limits = limits or AttachmentLimits()
    if len(attachments) > limits.files:
        raise AttachmentError(
            f"{len(attachments)} files attached; up to {limits.files} go with one message."
        )
    total = sum(a.size for a in attachments)
    if total > limits.message_bytes:
        raise AttachmentError(
            f"The attachments come to {human_size(total)}; one message takes up to "
            f"{human_size(limits.message_bytes)}. Remove some of them."
        )


def prepare_file(path: Path | str, limits: AttachmentLimits | None = None) -> Attachment:
    """`prepare` for a file on disk (its size checked before it is read)."""
    limits = limits or AttachmentLimits()
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise AttachmentError(f"{path.name}: not a file.")
        if size > limits.file_bytes:
            raise AttachmentError(
                f"{path.name} is {human_size(size)}; files up to "
                f"{human_size(limits.file_bytes)} can be attached."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise AttachmentError(f"{path.name} cannot be read: {exc.strerror or exc}") from None
    return prepare(path.name, data, limits)


def prepare(name: str, data: bytes, limits: AttachmentLimits | None = None) -> Attachment:
    """The attachment made of the file `name` with the bytes `data`."""
    limits = limits or AttachmentLimits()
    name = Path(name.replace("\\", "/")).name or "file"
    if len(data) > limits.file_bytes:
        raise AttachmentError(
            f"{name} is {human_size(len(data))}; files up to "
            f"{human_size(limits.file_bytes)} can be attached."
        )
    if _looks_like_image(data):
        from .attachment_images import prepare_image

        return prepare_image(name, data, limits)
    if data.startswith(b"%PDF-") or name.lower().endswith(".pdf"):
        from .attachment_documents import prepare_pdf

        return prepare_pdf(name, data, limits)
    guessed = mimetypes.guess_type(name)[0] or ""
    if guessed.startswith("image/"):
        raise AttachmentError(
            f"{name} is not an image this app can read (PNG, JPEG, WebP and GIF are)."
        )
    from .attachment_documents import prepare_text

    return prepare_text(name, data, limits)


def for_import(
    limits: AttachmentLimits | None = None,
) -> Callable[[str, bytes, bool], Attachment]:
    """The preparer an import is given (`storage.importers.Preparer`): a file of an
    export prepared as if attached in the composer; `extracted` text (the source's
    own extraction of a document, e.g. Claude's) is taken as the document's text."""
    chosen = limits or AttachmentLimits()

    def prepare_imported(name: str, data: bytes, extracted: bool) -> Attachment:
        if not extracted:
            return prepare(name, data, chosen)
        from .attachment_documents import prepare_text

        name = Path(name.replace("\\", "/")).name or "file"
        if len(data) > chosen.file_bytes:
            raise AttachmentError(
                f"{name} is {human_size(len(data))}; files up to "
                f"{human_size(chosen.file_bytes)} can be attached."
            )
        return prepare_text(name, data, chosen)

    return prepare_imported


def _looks_like_image(data: bytes) -> bool:
    return (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or data.startswith((b"GIF87a", b"GIF89a"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def read_image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header only (nothing decoded)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size
