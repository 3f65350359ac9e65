"""Documents for the model: text and code files, and the text of PDFs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .attachments import Attachment, AttachmentError, AttachmentLimits

__all__ = ["decode_text", "pdf_pages", "prepare_pdf", "prepare_text"]


def _part(
    name: str, body: str, limits: AttachmentLimits, original: int, note: str = ""
) -> Attachment:
    """The text part a model reads: the file's name, then its text (cut at the limit,
    with a note saying what was cut)."""
    notes = [note] if note else []
    if len(body) > limits.text_chars:
        cut = len(body) - limits.text_chars
        body = body[: limits.text_chars]
        notes.append(f"cut after {limits.text_chars:,} characters; {cut:,} characters not sent")
        body += f"\n[… {name}: the last {cut:,} characters were cut (attachment limit)]"
    text = f"File: {name}\n```\n{body}\n```"
    return Attachment(
        name, "document", "text/plain", text.encode("utf-8"), original, "; ".join(notes)
    )


def prepare_text(name: str, data: bytes, limits: AttachmentLimits) -> Attachment:
    """A text or code file, in whatever encoding it has; binary files are refused."""
    if not data:
        return _part(name, "", limits, 0, "empty file")
    return _part(name, decode_text(name, data), limits, len(data))


def decode_text(name: str, data: bytes) -> str:
    """A text or code file's text, in whatever encoding it has; raises
    `AttachmentError` (naming the file and why) for binary data."""
    if not data:
        return ""
    sample = data[:8192]
    if b"\x00" in sample and not _utf16(sample):
        raise AttachmentError(
            f"{name} looks like a binary file (it contains NUL bytes); only text, code, "
            "PDF and image files can be attached."
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise AttachmentError(
                f"{name} is not text in any encoding this app recognises (binary data?); "
                "only text, code, PDF and image files can be attached."
            ) from None
        text = str(best)
    text = text.removeprefix("\ufeff")
    control = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\t\n\r\f\v\x1b")
    if control > max(8, len(text[:8192]) // 50):
        raise AttachmentError(
            f"{name} looks like a binary file (many control characters); only text, code, "
            "PDF and image files can be attached."
        )
    return text


@contextmanager
def _reading_pdf(name: str) -> Iterator[None]:
    """pypdf's failures while a PDF is read, as one `AttachmentError` naming it."""
    from pypdf.errors import PdfReadError

    try:
        yield
    except AttachmentError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AttachmentError(f"{name} is not a readable PDF ({exc}).") from None


def _open_pdf(name: str, data: bytes) -> Any:
    """pypdf's reader of `data` (an encrypted PDF is tried with the empty password);
    call inside `_reading_pdf`."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:
            raise AttachmentError(f"{name} is an encrypted PDF; it cannot be read.") from None
    return reader


def pdf_pages(name: str, data: bytes, *, max_chars: int) -> list[str]:
    """A PDF's text, one string per page ("" for a page without a text layer), until
    `max_chars` characters were read; raises `AttachmentError` for an unreadable,
    encrypted or empty PDF."""
    pages: list[str] = []
    with _reading_pdf(name):
        total = 0
        for page in _open_pdf(name, data).pages:
            text = (page.extract_text() or "").strip()
            pages.append(text)
            total += len(text)
            if total > max_chars:
                break
    if not pages:
        raise AttachmentError(f"{name} is a PDF without pages.")
    return pages


def _utf16(sample: bytes) -> bool:
    return sample.startswith((b"\xff\xfe", b"\xfe\xff"))


def prepare_pdf(name: str, data: bytes, limits: AttachmentLimits) -> Attachment:
    """A PDF's text, page by page; pages without a text layer are named."""
    with _reading_pdf(name):
        reader = _open_pdf(name, data)
        pages: list[str] = []
        empty: list[int] = []
        total = 0
        for number, page in enumerate(reader.pages, 1):
            text = (page.extract_text() or "").strip()
            if not text:
                empty.append(number)
                text = "[no text layer on this page: a scan or pictures only]"
            pages.append(f"--- page {number} ---\n{text}")
            total += len(text)
            if total > limits.text_chars:  # the rest would be cut anyway
                left = len(reader.pages) - number
                if left:
                    pages.append(f"[… {left} more pages not read (attachment limit)]")
                break
    if not pages:
        raise AttachmentError(f"{name} is a PDF without pages.")
    note = ""
    if len(empty) == len(reader.pages):
        note = "this PDF has no text layer (scanned?): the model gets no text from it"
        pages.insert(0, f"[{name} has no text layer: it is a scan or pictures only]")
    elif empty:
        note = f"pages without text: {', '.join(map(str, empty[:20]))}"
    return _part(name, "\n\n".join(pages), limits, len(data), note)
