"""Documents for the model: text and code files, and the text of PDFs."""

from __future__ import annotations

import io
import logging

from .attachments import Attachment, AttachmentError, AttachmentLimits

__all__ = ["prepare_pdf", "prepare_text"]


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
    return _part(name, text, limits, len(data))


def _utf16(sample: bytes) -> bool:
    return sample.startswith((b"\xff\xfe", b"\xfe\xff"))


def prepare_pdf(name: str, data: bytes, limits: AttachmentLimits) -> Attachment:
    """A PDF's text, page by page; pages without a text layer are named."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise AttachmentError(f"{name} is an encrypted PDF; it cannot be read.") from None
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
    except AttachmentError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise AttachmentError(f"{name} is not a readable PDF ({exc}).") from None
    if not pages:
        raise AttachmentError(f"{name} is a PDF without pages.")
    note = ""
    if len(empty) == len(reader.pages):
        note = "this PDF has no text layer (scanned?): the model gets no text from it"
        pages.insert(0, f"[{name} has no text layer: it is a scan or pictures only]")
    elif empty:
        note = f"pages without text: {', '.join(map(str, empty[:20]))}"
    return _part(name, "\n\n".join(pages), limits, len(data), note)
