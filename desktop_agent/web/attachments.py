"""Attachments in a `serve` request body.

A POST to /api/chat/stream or a WebSocket message may carry

    "attachments": [{"name": "photo.jpg", "mime_type": "image/jpeg", "data": "<base64>"}]

`name` is the file's name (shown to the model with a document's text); `data` the
file's bytes in standard base64; `mime_type` is optional and informative (the bytes
decide: PNG, JPEG, WebP, GIF images; PDFs; text and code files). Each is prepared
like a file attached in the window (off the event loop): images scaled and stripped
of metadata, documents as text. The rest of the body stays under 64 KB; the whole
body under 32 MB; the per-file and per-message limits are `AttachmentLimits`'.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app.attachments import Attachment, AttachmentLimits

__all__ = ["attachments_of", "bounded_body"]

#: The body without its attachments' data.
REST_LIMIT = 64 * 1024


def bounded_body(body: dict[str, Any], size: int) -> dict[str, Any]:
    """`body` (of `size` bytes), or a 413 when what is not attachment data is over 64 KB."""
    from .server import BadRequest

    if size <= REST_LIMIT:
        return body
    raw = body.get("attachments")
    data = 0
    if isinstance(raw, list):
        data = sum(
            len(a["data"]) for a in raw if isinstance(a, dict) and isinstance(a.get("data"), str)
        )
    if size - data > REST_LIMIT:
        raise BadRequest(413, f"request body over {REST_LIMIT // 1024} KB (attachments aside)")
    return body


async def attachments_of(body: dict[str, Any], limits: AttachmentLimits) -> list[Attachment]:
    """The prepared attachments of a request body (none: []); BadRequest (400/413) for
    a malformed entry or a file that cannot be attached (the message names it)."""
    from .server import BadRequest

    raw = body.get("attachments")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadRequest(400, "'attachments' must be a list of {name, mime_type, data}")
    if len(raw) > limits.files:
        raise BadRequest(413, f"{len(raw)} attachments; up to {limits.files} go with one message")
    files: list[tuple[str, bytes]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), str):
            raise BadRequest(400, f"attachment {i}: send an object with a base64 'data' string")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise BadRequest(400, f"attachment {i}: 'name' must be a file name (1-255 chars)")
        mime = entry.get("mime_type")
        if mime is not None and not isinstance(mime, str):
            raise BadRequest(400, f"attachment {i}: 'mime_type' must be a string")
        try:
            data = base64.b64decode(entry["data"], validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(400, f"attachment {name!r}: 'data' is not valid base64") from None
        files.append((name, data))

    from ..app.attachments import AttachmentError, check_message, prepare

    def prepare_all() -> list[Attachment]:
        prepared = [prepare(name, data, limits) for name, data in files]
        check_message(prepared, limits)
        return prepared

    try:
        return await asyncio.to_thread(prepare_all)
    except AttachmentError as exc:
        status = 413 if " up to " in str(exc) else 400
        raise BadRequest(status, str(exc)) from None
